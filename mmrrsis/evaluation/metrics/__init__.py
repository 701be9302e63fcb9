"""evaluation/metrics of mmrrsis."""

__all__ = []

"""evaluation of mmrrsis."""

__all__ = []

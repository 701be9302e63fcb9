"""apis of mmrrsis."""

__all__ = []

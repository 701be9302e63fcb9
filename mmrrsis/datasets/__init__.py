"""datasets of mmrrsis."""

__all__ = []

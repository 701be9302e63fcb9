"""models of mmrrsis."""

__all__ = []

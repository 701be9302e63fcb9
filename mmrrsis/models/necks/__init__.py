"""models/necks of mmrrsis."""

__all__ = []

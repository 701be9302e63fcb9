"""models/segmentors of mmrrsis."""

__all__ = []

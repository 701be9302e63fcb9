"""datasets/transforms of mmrrsis."""

__all__ = []

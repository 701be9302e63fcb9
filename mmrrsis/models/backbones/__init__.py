"""models/backbones of mmrrsis."""

__all__ = []

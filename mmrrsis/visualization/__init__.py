"""visualization of mmrrsis."""

__all__ = []

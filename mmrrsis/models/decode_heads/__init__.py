"""models/decode_heads of mmrrsis."""

__all__ = []

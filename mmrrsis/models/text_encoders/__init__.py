"""models/text_encoders of mmrrsis."""

__all__ = []

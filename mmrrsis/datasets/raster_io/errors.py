"""What the raster opener raises (all are ``ValueError``s, so a command
line or the web app answers them with a message)."""


class RasterError(ValueError):
    """A user's raster that mmrrsis will not or cannot read."""


class UnsupportedRasterError(RasterError):
    """A path or a format the raster opener refuses."""


class RasterDecodeError(RasterError):
    """A raster whose data is damaged or truncated."""


class RasterSizeError(RasterError):
    """A read or a run above the size rule.

    Attributes:
        pixels (int): What was asked for.
        limit (int): The limit.
    """

    def __init__(self, message: str, pixels: int, limit: int) -> None:
        super().__init__(message)
        self.pixels = pixels
        self.limit = limit

"""Optional dependencies, imported where they are needed."""


def import_rasterio(purpose: str = 'This'):
    """rasterio, or an ImportError that says how to install it.

    rasterio is in the ``geo`` extra (``pip install "mmrrsis[geo]"``), not
    a runtime dependency: 8-bit RGB images load without it.

    Args:
        purpose (str): What needs it, starting the message (e.g.
            'Scene inference'). Defaults to 'This'.

    Raises:
        ImportError: rasterio is not installed.
    """
    try:
        import rasterio
    except ImportError as e:
        raise ImportError(
            f'{purpose} needs rasterio, which is not installed: pip install '
            '"mmrrsis[geo]" (or pip install -r requirements/geo.txt)') from e
    return rasterio

"""Version of mmrrsis."""

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Split a version string such as ``'0.1.0rc1'`` into a tuple.

    Args:
        version_str (str): The version string.

    Returns:
        tuple: Integers for the numeric parts, then the pre-release tag
        (e.g. ``(0, 1, 0, 'rc1')``) when there is one.
    """
    info = []
    for part in version_str.split('.'):
        if part.isdigit():
            info.append(int(part))
        else:
            digits = ''.join(c for c in part if c.isdigit())
            rest = part[len(digits):]
            if digits:
                info.append(int(digits))
            if rest:
                info.append(rest)
    return tuple(info)


version_info = parse_version_info(__version__)

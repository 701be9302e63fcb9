"""Models of mmrrsis: text encoders, fusions, language-aware backbones,
necks, decode heads and segmentors, registered in
``mmrrsis.registry.MODELS``. How they fit together: ``docs/add_a_model.md``.
"""
from . import (
               backbones,
               data_preprocessor,
               decode_heads,
               fusions,
               guides,
               losses,
               necks,
               prompters,
               refiners,
               segmentors,
               text_encoders,
               utils,
)
from .backbones import *  # noqa: F401,F403
from .data_preprocessor import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .fusions import *  # noqa: F401,F403
from .guides import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .prompters import *  # noqa: F401,F403
from .refiners import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .text_encoders import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403

__all__ = (
    backbones.__all__ + data_preprocessor.__all__ + decode_heads.__all__ +
    fusions.__all__ + guides.__all__ + losses.__all__ + necks.__all__ +
    prompters.__all__ + refiners.__all__ + segmentors.__all__ +
    text_encoders.__all__ + utils.__all__)

"""The setup shared by text encoders built on HuggingFace transformers.

Such an encoder is configured by a pretrained model name or folder
(``pretrained``), optionally an architecture dict that builds it with
random weights instead (``bert_config``, ``text_config``, ...), and a
tokenizer source (``vocab``, ``tokenizer``, ...). :class:`HFTextEncoder`
implements :meth:`~BaseTextEncoder.offline_cfg` and
:meth:`~BaseTextEncoder.build_tokenizer` once for all of them, from a few
class attributes; a new encoder of this kind sets those and writes its
``__init__`` / ``forward``.

"Local" means a folder on disk or the local HuggingFace cache (read with
``local_files_only=True``): nothing here opens a network connection.
"""
import copy
import logging
import os.path as osp
from typing import Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmengine.model import initialize

from .base_text_encoder import (
    BaseTextEncoder,
    ExpressionTokenizer,
    TokenizerUnavailableError,
    check_purpose,
)
from .tiny_vocab import TINY_VOCAB_NAME

#: Files that hold a tokenizer, in the order they are looked for.
TOKENIZER_FILES = ('tokenizer.json', 'vocab.txt', 'tokenizer_config.json',
                   'spiece.model')


def local_file(pretrained: Optional[str],
               filenames: Sequence[str]) -> Optional[str]:
    """The first of ``filenames`` of a pretrained model that is on disk.

    Args:
        pretrained (str, optional): A folder, or a HuggingFace model name
            (looked up in the local cache only).
        filenames (Sequence[str]): File names, in order of preference.

    Returns:
        str | None: Its path, None if none is local.
    """
    if not pretrained:
        return None
    pretrained = str(pretrained)
    if osp.isdir(pretrained):
        for name in filenames:
            if osp.isfile(osp.join(pretrained, name)):
                return osp.join(pretrained, name)
        return None
    from transformers.utils import cached_file
    for name in filenames:
        try:
            path = cached_file(
                pretrained,
                name,
                local_files_only=True,
                _raise_exceptions_for_missing_entries=False,
                _raise_exceptions_for_connection_errors=False)
        except (OSError, ValueError):
            path = None
        if path:
            return path
    return None


class HFTextEncoder(BaseTextEncoder):
    """Base of the text encoders that wrap a HuggingFace model.

    Subclasses set the class attributes below and implement
    :meth:`hf_config_class` and :meth:`load_tokenizer`; they inherit
    :meth:`offline_cfg` and :meth:`build_tokenizer`:

    - ``offline_cfg(cfg, 'checkpoint')`` fills ``arch_key`` with the
      architecture of ``pretrained`` read from local files, and
      ``tokenizer_key`` with the local folder of its tokenizer; anything
      missing locally raises an ``OSError`` naming
      ``model.text_encoder.<key>`` to set;
    - ``offline_cfg(cfg, 'random')`` fills ``arch_key`` from local files
      when they are there, else from :attr:`known_dims` (by a part of the
      model's name; said in the log), and the tokenizer from local files,
      else the packaged stand-in vocabulary ``'mmrrsis-tiny'`` (said);
    - ``build_tokenizer(cfg)`` loads only the tokenizer, from
      ``tokenizer_key`` or the local files of ``pretrained``.

    Attributes:
        arch_key (str): Config key of the architecture dict that builds
            the model with random weights (e.g. ``'bert_config'``).
        tokenizer_key (str): Config key of the tokenizer source.
        default_pretrained (str, optional): ``pretrained`` when the
            config does not set it (the ``__init__`` default).
        default_max_tokens (int): ``max_tokens`` when the config does not
            set it.
        known_dims (tuple): ``(name part, architecture dict)`` pairs used
            for ``'random'`` when the architecture is not local; the first
            whose part is in the name wins, the last should be ``('',
            {...})``, the fallback.
    """

    arch_key: str
    tokenizer_key: str
    default_pretrained: Optional[str] = None
    default_max_tokens: int = 20
    known_dims: Tuple[Tuple[str, dict], ...] = (('', {}), )

    @classmethod
    def hf_config_class(cls) -> type:
        """The ``transformers`` configuration class of the architecture."""
        raise NotImplementedError

    @classmethod
    def load_tokenizer(cls, cfg: dict, source: str,
                       local_files_only: bool = True):
        """The HuggingFace tokenizer from ``source``.

        Args:
            cfg (dict): The encoder's config node (e.g. for
                ``lowercase``).
            source (str): :data:`TINY_VOCAB_NAME`, a file, a folder or a
                model name.
            local_files_only (bool): Never download (what
                :meth:`build_tokenizer` asks). Defaults to True.

        Returns:
            A ``transformers`` tokenizer.
        """
        raise NotImplementedError

    # ------------------------------------------------------------- model
    def init_weights(self) -> None:
        """Apply ``init_cfg`` only.

        The HuggingFace model got its weights when it was built; the
        recursion of :meth:`BaseModule.init_weights` would call
        HuggingFace's own ``init_weights`` and could re-initialise them.
        """
        if self.init_cfg:
            initialize(self, self.init_cfg)
        self._is_init = True

    def check_sizes(self, tokenizer, config, max_tokens: int) -> None:
        """Raise when the tokenizer or the token limit does not fit the
        model's embedding tables (``config``: its HF configuration)."""
        name = type(self).__name__
        if len(tokenizer) > config.vocab_size:
            raise ValueError(
                f'{name}: the tokenizer has {len(tokenizer)} tokens but the '
                f'embedding table only {config.vocab_size}; raise '
                f'`{self.arch_key}.vocab_size`.')
        if max_tokens > config.max_position_embeddings:
            raise ValueError(
                f'{name}: max_tokens={max_tokens} exceeds the model\'s '
                f'max_position_embeddings ({config.max_position_embeddings}).')

    # ------------------------------------------------------------ config
    @classmethod
    def _pretrained(cls, cfg: dict) -> Optional[str]:
        pretrained = cfg.get('pretrained', cls.default_pretrained)
        return None if pretrained is None else str(pretrained)

    @classmethod
    def local_architecture(cls, pretrained: Optional[str]) -> Optional[dict]:
        """The architecture dict of ``pretrained`` from local files (its
        ``config.json``), or None when it is not local."""
        if local_file(pretrained, ('config.json', )) is None:
            return None
        config = cls.hf_config_class().from_pretrained(
            pretrained, local_files_only=True)
        values = config.to_diff_dict()
        for key in ('transformers_version', 'model_type', 'architectures',
                    '_name_or_path'):
            values.pop(key, None)
        return values

    @classmethod
    def local_tokenizer(cls, pretrained: Optional[str]) -> Optional[str]:
        """The folder holding ``pretrained``'s tokenizer files on disk (a
        folder or the HF cache), or None."""
        path = local_file(pretrained, TOKENIZER_FILES)
        return None if path is None else osp.dirname(path)

    @classmethod
    def offline_cfg(cls, cfg: dict, purpose: str = 'random') -> dict:
        """See :meth:`BaseTextEncoder.offline_cfg` and the class docstring.
        """
        check_purpose(purpose)
        node = copy.deepcopy(cfg)
        pretrained = cls._pretrained(node)
        if node.get(cls.arch_key) is None:
            arch = cls.local_architecture(pretrained)
            if arch is None and purpose == 'checkpoint':
                raise OSError(
                    f'A checkpoint is given, so {cls.__name__} is built from '
                    f'the architecture of "{pretrained}" and takes the '
                    'checkpoint\'s weights (none are downloaded), but its '
                    'config.json is not on this machine (neither a folder '
                    'nor the local HuggingFace cache). Point '
                    'model.text_encoder.pretrained at a local folder with '
                    'config.json and the tokenizer files (the weights are '
                    f'not needed), or set model.text_encoder.{cls.arch_key}.')
            if arch is None:
                name = (pretrained or '').lower()
                arch = next(dict(dims) for part, dims in cls.known_dims
                            if part in name)
                print_log(
                    f'{cls.__name__}: the architecture of "{pretrained}" is '
                    f'not on this machine; built from {cls.arch_key}={arch} '
                    '(random weights)',
                    logger='current')
            node[cls.arch_key] = arch
        if node.get(cls.tokenizer_key) is None:
            folder = cls.local_tokenizer(pretrained)
            if folder is None and purpose == 'checkpoint':
                raise OSError(
                    f'The tokenizer of "{pretrained}" is not on this machine '
                    '(neither a folder nor the local HuggingFace cache) and '
                    'nothing is downloaded: point '
                    'model.text_encoder.pretrained at a local folder with its '
                    'tokenizer files, or set '
                    f'model.text_encoder.{cls.tokenizer_key}.')
            if folder is None:
                folder = TINY_VOCAB_NAME
                print_log(
                    f'{cls.__name__}: the tokenizer of "{pretrained}" is not '
                    f'on this machine; the packaged stand-in vocabulary '
                    f'"{TINY_VOCAB_NAME}" tokenises instead (token counts '
                    'differ from the real tokenizer\'s)',
                    logger='current',
                    level=logging.WARNING)
            node[cls.tokenizer_key] = folder
        return node

    @classmethod
    def build_tokenizer(cls, cfg: dict) -> ExpressionTokenizer:
        """See :meth:`BaseTextEncoder.build_tokenizer`."""
        source = cfg.get(cls.tokenizer_key)
        pretrained = cls._pretrained(cfg)
        if source is None:
            source = cls.local_tokenizer(pretrained)
            if source is None:
                raise TokenizerUnavailableError(
                    f'the tokenizer of "{pretrained}" is not on this machine '
                    '(neither a folder nor the local HuggingFace cache); set '
                    f'model.text_encoder.{cls.tokenizer_key} or point '
                    '`pretrained` at a local folder')
        try:
            tokenizer = cls.load_tokenizer(cfg, str(source))
        except (OSError, ValueError) as e:
            raise TokenizerUnavailableError(
                f'{cls.__name__} cannot load its tokenizer from {source!r} '
                f'without a download: {e}') from e

        def encode(text: str):
            return tokenizer(text)['input_ids']

        return ExpressionTokenizer(
            encode=encode,
            max_tokens=int(cfg.get('max_tokens', cls.default_max_tokens)),
            unk_id=tokenizer.unk_token_id,
            description=f'the config\'s tokenizer ({cls.__name__}, '
            f'{cls.tokenizer_key}={str(source)!r})')


__all__ = ['HFTextEncoder', 'TOKENIZER_FILES', 'local_file']

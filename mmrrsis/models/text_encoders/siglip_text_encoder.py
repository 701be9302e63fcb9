"""SigLIP text tower: raw referring expressions in, word features and the
pooled text vector out."""
import copy
import os.path as osp
from typing import List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.model import initialize
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.models.utils.hf_towers import (
    checkpoint_layers,
    load_pretrained,
    say_loaded,
)
from mmrrsis.models.utils.lora import adapt_or_freeze, load_base_weights
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

from .base_text_encoder import (
    BaseTextEncoder,
    ExpressionLog,
    ExpressionTokenizer,
    TokenizerUnavailableError,
)
from .bert_text_encoder import build_bert_tokenizer
from .tiny_vocab import TINY_VOCAB_NAME

PADDINGS = ('longest', 'max_length')


def _local_tokenizer(source: str):
    """A HuggingFace tokenizer from local files only, or None."""
    from transformers import AutoTokenizer
    try:
        return AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError):
        return None


@MODELS.register_module()
class SiglipTextEncoder(BaseTextEncoder):
    """Encode referring expressions with a SigLIP (or SigLIP 2) text tower.

    The encoder owns its tokenizer (a HuggingFace tokenizer: SigLIP 2's is
    Gemma's). It tokenizes a batch of raw strings into at most
    ``max_tokens`` ids per expression, pads them (``padding``), runs the
    text transformer and returns
    :class:`~mmrrsis.models.utils.TextFeatures`:

    - ``words`` (B, L, C): the last hidden state (after the final layer
      norm), one vector per position;
    - ``mask`` (B, L): the tokenizer's attention mask (1 for real tokens);
    - ``sentence`` (B, C_p): SigLIP's pooled text vector, the text head
      applied to the state at the *last position* L - 1 (with padding on
      the right, a padding position for every expression shorter than the
      longest of its batch, as in SigLIP and RSRefSeg2).

    SigLIP's image-text logit scale and bias (``logit_scale``,
    ``logit_bias``, each (1,)) live here too, for a component that
    compares text and image features the SigLIP way
    (``sim * exp(logit_scale) + logit_bias``).

    Padding: ``'longest'`` pads to the longest expression of the batch,
    as RSRefSeg2 does in training and testing, so an expression's features
    (and ``sentence``) depend on the longest expression batched with it;
    ``'max_length'`` pads every expression to ``max_tokens`` as SigLIP was
    pretrained, independent of the batch. Expressions longer than
    ``max_tokens`` are cut (counted and said, see :class:`ExpressionLog`);
    RSRefSeg2 asks for 128 but the tower has 64 positions.

    Weights: the architecture is ``text_config`` (keyword arguments of
    ``transformers.SiglipTextConfig``), built with random weights; the
    weights of ``pretrained`` (a SigLIP model folder or hub id, e.g.
    ``'google/siglip2-so400m-patch16-512'``) are loaded by
    :meth:`init_weights`, which the runner calls before training. With
    ``lora`` (see :func:`~mmrrsis.models.utils.lora.add_lora`) the tower
    is frozen except the adapters; with ``freeze=True`` and no LoRA it is
    frozen entirely. The logit scale and bias stay trainable.

    Args:
        text_config (dict): ``SiglipTextConfig`` keyword arguments
            (``vocab_size``, ``hidden_size``, ``intermediate_size``,
            ``num_hidden_layers``, ``num_attention_heads``,
            ``max_position_embeddings``, ``projection_size``...).
        pretrained (str, optional): SigLIP folder or hub id whose weights
            :meth:`init_weights` loads. Defaults to None (random).
        tokenizer (str, optional): A tokenizer folder or hub id, or
            ``'mmrrsis-tiny'`` (the packaged word-piece stand-in, for tests
            and for counting; ids mean nothing to pretrained weights).
            Defaults to None: ``pretrained``'s tokenizer.
        max_tokens (int, optional): Token limit, special tokens included.
            Defaults to None: the tower's ``max_position_embeddings``.
        padding (str): ``'longest'`` or ``'max_length'``. Defaults to
            ``'longest'``.
        lora (dict, optional): LoRA on the tower (peft). Defaults to None.
        with_cp (bool): Gradient checkpointing of the tower's layers
            (:func:`~mmrrsis.models.utils.hf_towers.checkpoint_layers`).
            Defaults to False.
        freeze (bool): Freeze the tower (not the logit scale and bias)
            when there is no LoRA. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config of
            the logit scale and bias. Defaults to None.
    """

    def __init__(self,
                 text_config: dict,
                 pretrained: Optional[str] = None,
                 tokenizer: Optional[str] = None,
                 max_tokens: Optional[int] = None,
                 padding: str = 'longest',
                 lora: OptConfigType = None,
                 freeze: bool = False,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import SiglipTextConfig, SiglipTextModel

        if padding not in PADDINGS:
            raise ValueError(f'padding must be one of {PADDINGS}, got '
                             f'"{padding}"')
        if text_config is None:
            raise ValueError(
                'SiglipTextEncoder needs text_config (the tower\'s '
                'architecture, SiglipTextConfig keyword arguments); '
                'offline_cfg(cfg) reads it from a local SigLIP folder.')
        self.pretrained = pretrained
        self.padding = padding
        self.lora = None if lora is None else dict(lora)
        config = SiglipTextConfig(**dict(text_config))
        self.siglip = SiglipTextModel(config).text_model
        positions = config.max_position_embeddings
        self.max_tokens = positions if max_tokens is None else max_tokens
        if not 2 <= self.max_tokens <= positions:
            raise ValueError(
                f'max_tokens={max_tokens} must be between 2 and the '
                f'tower\'s {positions} positions (max_position_embeddings)')
        self.out_channels = config.hidden_size
        self.sentence_channels = config.projection_size
        self.tokenizer_source = tokenizer or pretrained
        self.tokenizer = self.load_tokenizer(self.tokenizer_source)
        if len(self.tokenizer) > config.vocab_size:
            raise ValueError(
                f'The tokenizer ({self.tokenizer_source}) has '
                f'{len(self.tokenizer)} tokens but the tower\'s embedding '
                f'table only {config.vocab_size}; raise '
                'text_config.vocab_size.')
        self.expression_log = ExpressionLog(type(self).__name__)
        # SigLIP's image-text logit scale and bias, (1,) each
        self.logit_scale = nn.Parameter(torch.zeros(1))
        self.logit_bias = nn.Parameter(torch.zeros(1))
        adapt_or_freeze(self.siglip, self.lora, freeze, 'text_encoder')
        if with_cp:
            checkpoint_layers(self.siglip)

    # ----------------------------------------------------- setup (C1)
    @staticmethod
    def load_tokenizer(source: Optional[str]):
        """The tokenizer named by ``source``.

        Args:
            source (str): ``'mmrrsis-tiny'``, a folder, or a hub id (local
                cache first, then a download).

        Returns:
            A HuggingFace tokenizer.

        Raises:
            TokenizerUnavailableError: ``source`` is None, or it would need
                a download that fails.
        """
        if source is None:
            raise TokenizerUnavailableError(
                'SiglipTextEncoder needs `tokenizer` (a folder, a hub id or '
                f'"{TINY_VOCAB_NAME}") or `pretrained`.')
        if source == TINY_VOCAB_NAME:
            return build_bert_tokenizer(vocab=TINY_VOCAB_NAME)
        tokenizer = _local_tokenizer(source)
        if tokenizer is not None:
            return tokenizer
        if osp.isdir(source):
            raise TokenizerUnavailableError(
                f'No tokenizer files in the folder {source} (tokenizer.json '
                'or tokenizer.model with tokenizer_config.json).')
        from transformers import AutoTokenizer
        try:
            return AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError) as e:
            raise TokenizerUnavailableError(
                f'The tokenizer "{source}" is not in the local HuggingFace '
                'cache and cannot be downloaded here. Set '
                'model.text_encoder.tokenizer to a local folder with its '
                f'files, or to "{TINY_VOCAB_NAME}" for a stand-in. ({e})'
            ) from None

    @classmethod
    def offline_cfg(cls, cfg: dict, purpose: str = 'random') -> dict:
        """A copy of this encoder's config node that builds with no
        network access (contract C1).

        The architecture is always in ``text_config`` and no weights are
        read when building (:meth:`init_weights` reads ``pretrained``), so
        only the tokenizer and ``pretrained`` change:

        - ``purpose='checkpoint'`` (weights from a checkpoint): the real
          tokenizer from local files (else :class:`TokenizerUnavailableError`
          naming ``model.text_encoder.tokenizer``), ``pretrained=None``;
        - ``purpose='random'`` (counting, benchmarking): the tokenizer from
          local files when there, else the packaged stand-in (said),
          ``pretrained=None``.

        Args:
            cfg (dict): The encoder's config node.
            purpose (str): ``'checkpoint'`` or ``'random'``. Defaults to
                ``'random'``.

        Returns:
            dict: The changed copy.
        """
        if purpose not in ('checkpoint', 'random'):
            raise ValueError(f'purpose must be "checkpoint" or "random", '
                             f'got "{purpose}"')
        cfg = copy.deepcopy(dict(cfg))
        source = cfg.get('tokenizer') or cfg.get('pretrained')
        if cfg.get('text_config') is None:
            raise ValueError(
                'model.text_encoder.text_config is not set: write the '
                'tower\'s architecture (SiglipTextConfig keyword arguments) '
                'in the config.')
        cfg['pretrained'] = None
        if source != TINY_VOCAB_NAME and (source is None or
                                          _local_tokenizer(source) is None):
            if purpose == 'checkpoint':
                raise TokenizerUnavailableError(
                    f'The tokenizer "{source}" is not available locally. '
                    'Set model.text_encoder.tokenizer to a folder holding '
                    'its files (e.g. saved with '
                    'AutoTokenizer.save_pretrained on a machine with '
                    'network access).')
            print_log(
                f'SiglipTextEncoder: tokenizer "{source}" not available '
                f'locally, using the packaged stand-in "{TINY_VOCAB_NAME}" '
                '(its ids mean nothing to pretrained weights; fine for '
                'counting and timing).',
                logger='current')
            cfg['tokenizer'] = TINY_VOCAB_NAME
        else:
            cfg['tokenizer'] = source
        return cfg

    @classmethod
    def build_tokenizer(cls, cfg: dict) -> ExpressionTokenizer:
        """The tokenizer alone, from local files only (contract C1).

        Args:
            cfg (dict): The encoder's config node.

        Returns:
            ExpressionTokenizer: ``encode`` gives the ids with special
            tokens, before truncation; ``max_tokens`` the limit.

        Raises:
            TokenizerUnavailableError: It would need a download.
        """
        source = cfg.get('tokenizer') or cfg.get('pretrained')
        if source == TINY_VOCAB_NAME:
            tokenizer = build_bert_tokenizer(vocab=TINY_VOCAB_NAME)
        else:
            tokenizer = None if source is None else _local_tokenizer(source)
        if tokenizer is None:
            raise TokenizerUnavailableError(
                f'The tokenizer "{source}" of model.text_encoder is not '
                'available locally; set model.text_encoder.tokenizer to a '
                'folder with its files.')
        text_config = cfg.get('text_config') or {}
        max_tokens = cfg.get('max_tokens') or text_config.get(
            'max_position_embeddings', 64)
        return ExpressionTokenizer(
            encode=lambda text: tokenizer(text)['input_ids'],
            max_tokens=max_tokens,
            unk_id=tokenizer.unk_token_id,
            description=f'{type(tokenizer).__name__} from {source}')

    # --------------------------------------------------------- weights
    def init_weights(self) -> None:
        """Load ``pretrained`` (tower weights, logit scale and bias), or
        apply ``init_cfg``; never re-initialise the tower."""
        if self.init_cfg:
            initialize(self, self.init_cfg)
        if self.pretrained is not None:
            from transformers import SiglipModel
            model = load_pretrained(SiglipModel.from_pretrained,
                                    self.pretrained,
                                    'model.text_encoder.pretrained')
            load_base_weights(self.siglip, model.text_model.state_dict(),
                              'model.text_encoder')
            self.logit_scale.data.copy_(model.logit_scale.data)
            self.logit_bias.data.copy_(model.logit_bias.data)
            say_loaded(type(self).__name__, self.pretrained, self.lora)
        self._is_init = True

    # ------------------------------------------------------------ encode
    @property
    def text_stats(self) -> dict:
        """Counts of :attr:`expression_log` (``seen``, ``truncated``)."""
        return dict(self.expression_log.counts)

    def tokenize(self, texts: List[str]) -> dict:
        """Token ids and attention mask of a batch (on the tower's device).

        Args:
            texts (list[str]): B expressions.

        Returns:
            dict: ``input_ids`` (B, L) and ``attention_mask`` (B, L).
        """
        self.expression_log.seen(len(texts))
        full = self.tokenizer(list(texts))['input_ids']
        for ids, text in zip(full, texts):
            if len(ids) > self.max_tokens:
                self.expression_log.add(
                    'truncated',
                    f'the expression "{text}" has {len(ids)} tokens and '
                    f'was cut to max_tokens={self.max_tokens}',
                    f'were cut to max_tokens={self.max_tokens}')
        batch = self.tokenizer(
            list(texts),
            padding=self.padding,
            truncation=True,
            max_length=self.max_tokens,
            return_tensors='pt')
        device = self.logit_scale.device
        return dict(
            input_ids=batch['input_ids'].to(device),
            attention_mask=batch['attention_mask'].to(device))

    def forward(self, texts: Union[str, List[str]]) -> TextFeatures:
        """Encode raw expressions.

        Args:
            texts (str | list[str]): One expression or B expressions.

        Returns:
            TextFeatures: ``words`` (B, L, C), ``mask`` (B, L) and
            ``sentence`` (B, C_p), see the class docstring.
        """
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            raise ValueError('SiglipTextEncoder got no texts.')
        tokens = self.tokenize(texts)
        out = self.siglip(**tokens)
        words: Tensor = out.last_hidden_state
        mask = tokens['attention_mask'].to(words.dtype)
        return TextFeatures(words, mask, out.pooler_output)


__all__ = ['SiglipTextEncoder']

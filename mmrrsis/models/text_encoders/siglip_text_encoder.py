"""SigLIP text tower: raw referring expressions in, word features and the
pooled sentence vector out."""
import os.path as osp
from contextlib import nullcontext
from typing import List, Optional, Tuple, Union

import torch
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

from .base_text_encoder import ExpressionLog, ExpressionTokenizer
from .hf_text_encoder import HFTextEncoder
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab

PADDINGS = ('max_length', 'longest')
#: Config key named in the messages about ``pretrained``.
PRETRAINED_OPTION = 'model.text_encoder.pretrained'


def stand_in_tokenizer(lowercase: bool = True):
    """A tokenizer over the packaged vocabulary, with SigLIP's habits.

    WordPiece over :func:`~.tiny_vocab.tiny_vocab`, an end-of-sequence
    token after every expression (``[SEP]`` plays ``</s>``) and ``[PAD]``
    for padding. It stands in for a real SigLIP tokenizer when token
    counts or random-weight benchmarks are all that is wanted; its ids
    mean nothing to pretrained weights.

    Args:
        lowercase (bool): Lower-case first. Defaults to True.

    Returns:
        transformers.PreTrainedTokenizerFast: The tokenizer.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(tiny_vocab())}
    backend = Tokenizer(models.WordPiece(vocab, unk_token='[UNK]'))
    steps = [normalizers.NFKC()] + ([normalizers.Lowercase()]
                                    if lowercase else [])
    backend.normalizer = normalizers.Sequence(steps)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = TemplateProcessing(
        single='$A [SEP]', special_tokens=[('[SEP]', vocab['[SEP]'])])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token='[UNK]',
        pad_token='[PAD]',
        eos_token='[SEP]')


@MODELS.register_module()
class SiglipTextEncoder(HFTextEncoder):
    """Encode referring expressions with SigLIP's text tower.

    The HuggingFace SigLIP text transformer (SigLIP, and the
    fixed-resolution SigLIP 2 checkpoints, which use the same classes):
    token embeddings plus learned positions, a bidirectional transformer,
    a final layer norm, and a head on the last position. The encoder owns
    its tokenizer (the model's own: SentencePiece for SigLIP, Gemma's for
    SigLIP 2, through ``transformers``), the token limit and the padding,
    and returns :class:`~mmrrsis.models.utils.TextFeatures`:

    - ``words`` (B, L, C_t): the last hidden state after the final layer
      norm, one vector per token (padding included; use the mask);
    - ``mask`` (B, L): 1 for the expression's tokens (its special tokens
      included), 0 for padding;
    - ``sentence`` (B, P): the pooled output, the hidden state at the
      *last position* L - 1 through the head (what RSRefSeg2's prompter
      reads); P is ``projection_size`` (:attr:`sentence_channels`), C_t
      unless the config sets another.

    SigLIP's image-text logit scale and bias (``logit_scale``,
    ``logit_bias``, each (1,)) live here too, for a component that
    compares text and image features the SigLIP way
    (``sim * exp(logit_scale) + logit_bias``, RSRefSeg2's prompter).

    Padding: SigLIP was trained on texts padded to 64 tokens with its pad
    token and no attention mask, the pooled output reading the last
    (usually a pad) position; that is the default
    (``padding='max_length'``, ``use_attention_mask=False``), and an
    expression's features then do not depend on its batch. RSRefSeg2
    pads to the longest expression of the batch and passes the attention
    mask (``padding='longest'``, ``use_attention_mask=True``), so an
    expression's ``sentence`` depends on the longest expression batched
    with it. SigLIP 2 was trained on lower-cased text (``lowercase=True``).

    Truncation: an expression longer than ``max_tokens`` with its special
    tokens is cut by the tokenizer (its content, keeping the special
    tokens), counted and logged by :class:`ExpressionLog`, as are
    expressions whose pieces are all the unknown token.

    Weights:

    - ``text_config=dict(...)`` (``SiglipTextConfig`` keyword arguments)
      builds the tower with random weights, without reading anything; the
      weights of ``pretrained`` (a SigLIP model folder or hub id, e.g.
      ``'google/siglip2-so400m-patch16-512'``, local cache first), logit
      scale and bias included, are then loaded by :meth:`init_weights`,
      which the runner calls before training (never at inference, where a
      checkpoint supplies every weight);
    - ``pretrained`` alone (a ``SiglipModel`` or ``SiglipTextModel``
      folder or hub id) reads the architecture and the weights when the
      encoder is built.

    The tokenizer comes from ``tokenizer`` or else ``pretrained``. Offline
    setup is :class:`~.hf_text_encoder.HFTextEncoder`'s: ``offline_cfg``
    fills ``text_config`` and ``tokenizer`` from local files (or, for
    ``'random'``, so400m / base dimensions by name and the packaged
    stand-in vocabulary) and drops ``pretrained``.

    With ``lora`` (see :func:`~mmrrsis.models.utils.lora.add_lora`) the
    tower is frozen except the adapters; with ``freeze=True`` and no LoRA
    it is frozen entirely (it then runs without autograd). The logit scale
    and bias stay trainable.

    Args:
        pretrained (str, optional): SigLIP folder or hub id. Defaults to
            None.
        text_config (dict, optional): ``SiglipTextConfig`` keyword
            arguments (``vocab_size``, ``hidden_size``,
            ``intermediate_size``, ``num_hidden_layers``,
            ``num_attention_heads``, ``max_position_embeddings``,
            ``projection_size``...). Defaults to None.
        tokenizer (str, optional): ``'mmrrsis-tiny'`` (the packaged
            stand-in, :func:`stand_in_tokenizer`; ids mean nothing to
            pretrained weights) or a folder with a saved tokenizer
            (``tokenizer.json`` and its config) or a hub id. Defaults to
            None (``pretrained``'s tokenizer).
        max_tokens (int, optional): Most tokens, special tokens included.
            Defaults to None: the tower's ``max_position_embeddings``
            (SigLIP: 64).
        padding (str): ``'max_length'`` (pad to ``max_tokens``) or
            ``'longest'``. Defaults to 'max_length'.
        use_attention_mask (bool): Pass the padding mask to the
            transformer. Defaults to False (as SigLIP was trained).
        lowercase (bool): Lower-case the expressions first. Defaults to
            False.
        lora (dict, optional): LoRA on the tower (peft). Defaults to None.
        freeze (bool): Freeze the tower (not the logit scale and bias)
            when there is no LoRA. Defaults to False.
        with_cp (bool): Gradient checkpointing of the tower's layers
            (:func:`~mmrrsis.models.utils.hf_towers.checkpoint_layers`).
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config of
            the logit scale and bias. Defaults to None.
    """

    arch_key = 'text_config'
    tokenizer_key = 'tokenizer'
    default_pretrained = None
    default_max_tokens = 64
    known_dims = (
        ('siglip2-so400m', dict(vocab_size=256000, hidden_size=1152,
                                intermediate_size=4304,
                                num_hidden_layers=27,
                                num_attention_heads=16)),
        ('so400m', dict(hidden_size=1152, intermediate_size=4304,
                        num_hidden_layers=27, num_attention_heads=16)),
        ('siglip2', dict(vocab_size=256000)),
        ('', {}),  # SigLIP base: SiglipTextConfig's defaults
    )

    @classmethod
    def hf_config_class(cls) -> type:
        from transformers import SiglipTextConfig
        return SiglipTextConfig

    @classmethod
    def load_tokenizer(cls, cfg: dict, source: str,
                       local_files_only: bool = True):
        """See :meth:`HFTextEncoder.load_tokenizer`; a folder without
        tokenizer files is an ``OSError`` that says so."""
        if source == TINY_VOCAB_NAME:
            return stand_in_tokenizer(cfg.get('lowercase', True))
        from transformers import AutoTokenizer
        try:
            return AutoTokenizer.from_pretrained(
                source, local_files_only=local_files_only)
        except (OSError, ValueError) as e:
            if osp.isdir(source):
                raise OSError(
                    f'No tokenizer files in the folder {source} '
                    '(tokenizer.json or tokenizer.model with '
                    'tokenizer_config.json). Set '
                    'model.text_encoder.tokenizer to a folder with them.'
                ) from e
            raise

    @classmethod
    def offline_cfg(cls, cfg: dict, purpose: str = 'random') -> dict:
        """See :meth:`HFTextEncoder.offline_cfg`; ``pretrained`` is
        dropped too (the architecture and the tokenizer are then in the
        node, and :meth:`init_weights` reads nothing)."""
        node = super().offline_cfg(cfg, purpose)
        node['pretrained'] = None
        return node

    @classmethod
    def build_tokenizer(cls, cfg: dict) -> ExpressionTokenizer:
        """See :meth:`HFTextEncoder.build_tokenizer`; without
        ``max_tokens`` the limit is ``text_config``'s
        ``max_position_embeddings`` (else 64), as the encoder's."""
        if cfg.get('max_tokens') is None:
            positions = (cfg.get('text_config') or {}).get(
                'max_position_embeddings', cls.default_max_tokens)
            cfg = dict(cfg, max_tokens=positions)
        return super().build_tokenizer(cfg)

    def __init__(self,
                 pretrained: Optional[str] = None,
                 text_config: OptConfigType = None,
                 tokenizer: Optional[str] = None,
                 max_tokens: Optional[int] = None,
                 padding: str = 'max_length',
                 use_attention_mask: bool = False,
                 lowercase: bool = False,
                 lora: OptConfigType = None,
                 freeze: bool = False,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import SiglipTextConfig, SiglipTextModel

        if padding not in PADDINGS:
            raise ValueError(
                f'padding must be one of {PADDINGS}, got "{padding}"')
        if text_config is not None:
            config = SiglipTextConfig(**dict(text_config))
        elif pretrained is not None:
            config = load_pretrained(SiglipTextConfig.from_pretrained,
                                     str(pretrained), PRETRAINED_OPTION)
        else:
            raise ValueError(
                'SiglipTextEncoder needs `pretrained` or `text_config` (the '
                'tower\'s architecture, SiglipTextConfig keyword arguments; '
                'offline_cfg(cfg) reads it from a local SigLIP folder).')
        self.pretrained = None if pretrained is None else str(pretrained)
        # the text transformer (embeddings, encoder, final norm, head)
        self.siglip = SiglipTextModel(config).text_model
        positions = config.max_position_embeddings
        max_tokens = positions if max_tokens is None else max_tokens
        if max_tokens < 2:
            raise ValueError(f'max_tokens={max_tokens} leaves no room for '
                             'an expression and its end token.')
        source = tokenizer if tokenizer is not None else self.pretrained
        if source is None:
            raise ValueError(
                'SiglipTextEncoder needs `tokenizer` (a folder, a hub id or '
                f'"{TINY_VOCAB_NAME}") or `pretrained`.')
        self.tokenizer_source = str(source)
        self.tokenizer = self.load_tokenizer(
            dict(lowercase=lowercase), self.tokenizer_source,
            local_files_only=False)
        if self.tokenizer.pad_token_id is None:
            raise ValueError(f'The tokenizer of {source!r} has no pad '
                             'token, which SiglipTextEncoder pads with.')
        self.check_sizes(self.tokenizer, config, max_tokens)
        self.max_tokens = max_tokens
        self.padding = padding
        self.use_attention_mask = use_attention_mask
        self.lowercase = lowercase
        self.lora = None if lora is None else dict(lora)
        self.out_channels = config.hidden_size
        self.sentence_channels = config.projection_size
        self.expression_log = ExpressionLog(type(self).__name__)
        # SigLIP's image-text logit scale and bias, (1,) each
        self.logit_scale = nn.Parameter(torch.zeros(1))
        self.logit_bias = nn.Parameter(torch.zeros(1))
        # weights still to read from `pretrained` (by init_weights)
        self._pending_pretrained = self.pretrained
        if text_config is None:  # the whole pretrained model, now
            self.load_pretrained_weights()
        adapt_or_freeze(self.siglip, self.lora, freeze, 'text_encoder')
        if with_cp:
            checkpoint_layers(self.siglip)

    # --------------------------------------------------------- weights
    def load_pretrained_weights(self) -> None:
        """Read the tower's weights (and, from a ``SiglipModel``, the
        logit scale and bias) from ``pretrained``, local files first."""
        from transformers import PretrainedConfig, SiglipModel, SiglipTextModel
        name = self._pending_pretrained

        def read_config(source, **kwargs):
            return PretrainedConfig.get_config_dict(source, **kwargs)[0]

        config = load_pretrained(read_config, name, PRETRAINED_OPTION)
        if config.get('model_type') == 'siglip_text_model':
            model = load_pretrained(SiglipTextModel.from_pretrained, name,
                                    PRETRAINED_OPTION)
        else:
            model = load_pretrained(SiglipModel.from_pretrained, name,
                                    PRETRAINED_OPTION)
            self.logit_scale.data.copy_(model.logit_scale.data.view(1))
            self.logit_bias.data.copy_(model.logit_bias.data.view(1))
        load_base_weights(self.siglip, model.text_model.state_dict(),
                          'model.text_encoder')
        say_loaded(type(self).__name__, name, self.lora)
        self._pending_pretrained = None

    def init_weights(self) -> None:
        """Load ``pretrained`` (tower weights, logit scale and bias) when
        it was not read at build, and apply ``init_cfg``; never
        re-initialise the tower (HuggingFace's own ``init_weights``)."""
        if self.init_cfg:
            initialize(self, self.init_cfg)
        if self._pending_pretrained is not None:
            self.load_pretrained_weights()
        self._is_init = True

    # ------------------------------------------------------------ encode
    @property
    def text_stats(self) -> dict:
        """Counts of :attr:`expression_log` (``seen``, ``truncated``,
        ``unknown_only``)."""
        return dict(self.expression_log.counts)

    def tokenize(self, texts: List[str]) -> Tuple[Tensor, Tensor]:
        """Tokenize a batch of expressions.

        Args:
            texts (list[str]): B referring expressions.

        Returns:
            tuple[Tensor, Tensor]: ``input_ids`` (B, L) long and
            ``attention_mask`` (B, L) long, 1 for the expression's
            tokens; L is ``max_tokens`` or the longest in the batch; on
            the tower's device.
        """
        tok = self.tokenizer
        texts = [t.lower() if self.lowercase else t for t in texts]
        self.expression_log.seen(len(texts))
        special = set(tok.all_special_ids) - {tok.unk_token_id}
        ids = []
        for text, full in zip(texts, tok(texts)['input_ids']):
            pieces = [i for i in full if i not in special]
            if pieces and all(i == tok.unk_token_id for i in pieces):
                self.expression_log.add(
                    'unknown_only',
                    f'every piece of the expression "{text}" is the '
                    'unknown token: the vocabulary does not cover it',
                    'consisted of unknown tokens only')
            if len(full) > self.max_tokens:
                self.expression_log.add(
                    'truncated',
                    f'the expression "{text}" has {len(full)} tokens and '
                    f'was cut to max_tokens={self.max_tokens}',
                    f'were cut to max_tokens={self.max_tokens}')
                full = tok(text, truncation=True,
                           max_length=self.max_tokens)['input_ids']
            ids.append(full)
        length = self.max_tokens if self.padding == 'max_length' else max(
            len(i) for i in ids)
        input_ids = torch.full((len(ids), length), tok.pad_token_id,
                               dtype=torch.long)
        attention_mask = torch.zeros((len(ids), length), dtype=torch.long)
        for row, token_ids in enumerate(ids):
            input_ids[row, :len(token_ids)] = torch.tensor(token_ids)
            attention_mask[row, :len(token_ids)] = 1
        device = self.logit_scale.device
        return input_ids.to(device), attention_mask.to(device)

    def forward(self, texts: Union[str, List[str]]) -> TextFeatures:
        """Encode raw expressions.

        Args:
            texts (str | list[str]): One expression or B expressions.

        Returns:
            TextFeatures: ``words`` (B, L, C_t), ``mask`` (B, L) float,
            ``sentence`` (B, P), the pooled output.
        """
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            raise ValueError('SiglipTextEncoder got no texts.')
        input_ids, attention_mask = self.tokenize(texts)
        frozen = not any(p.requires_grad for p in self.siglip.parameters())
        with torch.no_grad() if frozen else nullcontext():
            out = self.siglip(
                input_ids=input_ids,
                attention_mask=attention_mask
                if self.use_attention_mask else None)
        words = out.last_hidden_state
        return TextFeatures(words, attention_mask.to(words.dtype),
                            out.pooler_output)


__all__ = ['SiglipTextEncoder', 'stand_in_tokenizer']

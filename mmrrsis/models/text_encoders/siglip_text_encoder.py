"""SigLIP text tower: raw referring expressions in, word features and the
pooled sentence vector out."""
from contextlib import nullcontext
from typing import List, Optional, Tuple, Union

import torch
from torch import Tensor

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

from .base_text_encoder import ExpressionLog
from .hf_text_encoder import HFTextEncoder
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab


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

    The HuggingFace ``SiglipTextModel`` (SigLIP, and the fixed-resolution
    SigLIP2 checkpoints, which use the same classes): token embeddings
    plus learned positions, a bidirectional transformer, a final layer
    norm, and a head on the last position. The encoder owns its
    tokenizer (the model's own: SentencePiece for SigLIP, Gemma's for
    SigLIP2, through ``transformers``), the token limit and the padding,
    and returns :class:`~mmrrsis.models.utils.TextFeatures`:

    - ``words`` (B, L, C_t): the last hidden state after the final layer
      norm, one vector per token (padding included; use the mask);
    - ``mask`` (B, L): 1 for the expression's tokens (its special tokens
      included), 0 for padding;
    - ``sentence`` (B, P): the pooled output, the hidden state at the
      last position through the head (what RSRefSeg2's prompter reads);
      P is ``projection_size``, C_t unless the config sets another.

    SigLIP was trained on texts padded to 64 tokens with its pad token and
    no attention mask, the pooled output reading the last (usually a pad)
    position; that is the default (``padding='max_length'``,
    ``use_attention_mask=False``). RSRefSeg2 pads to the longest
    expression of the batch and passes the attention mask
    (``padding='longest'``, ``use_attention_mask=True``). SigLIP2 was
    trained on lower-cased text (``lowercase=True``).

    Truncation: an expression longer than ``max_tokens`` with its special
    tokens is cut by the tokenizer (its content, keeping the special
    tokens), counted and logged by :class:`ExpressionLog`, as are
    expressions whose pieces are all the unknown token.

    Ways to build it (as :class:`BertTextEncoder`): ``pretrained`` (a hub
    name or a local folder of a ``SiglipModel`` or ``SiglipTextModel``:
    weights and tokenizer), or ``text_config=dict(...)`` (a randomly
    initialised tower from ``SiglipTextConfig``; the tokenizer then comes
    from ``tokenizer`` or ``pretrained``). Offline setup is
    :class:`~.hf_text_encoder.HFTextEncoder`'s: ``offline_cfg`` fills
    ``text_config`` and ``tokenizer`` from local files (or, for
    ``'random'``, so400m / base dimensions by name and the packaged
    stand-in vocabulary).

    Args:
        pretrained (str, optional): HF model name or folder. Defaults to
            None.
        text_config (dict, optional): Keyword arguments of
            ``SiglipTextConfig``; when given, the tower is built from it
            with random weights. Defaults to None.
        tokenizer (str, optional): ``'mmrrsis-tiny'`` (the packaged
            stand-in, :func:`stand_in_tokenizer`) or a folder with a saved
            tokenizer (``tokenizer.json`` and its config). Defaults to
            None (from ``pretrained``).
        max_tokens (int): Most tokens, special tokens included (SigLIP:
            64 positions). Defaults to 64.
        padding (str): ``'max_length'`` (pad to ``max_tokens``) or
            ``'longest'``. Defaults to 'max_length'.
        use_attention_mask (bool): Pass the padding mask to the
            transformer. Defaults to False (as SigLIP was trained).
        lowercase (bool): Lower-case the expressions first. Defaults to
            False.
        freeze (bool): Freeze the tower (it then runs without autograd).
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
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
        if source == TINY_VOCAB_NAME:
            return stand_in_tokenizer(cfg.get('lowercase', True))
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(
            source, local_files_only=local_files_only)

    def __init__(self,
                 pretrained: Optional[str] = None,
                 text_config: OptConfigType = None,
                 tokenizer: Optional[str] = None,
                 max_tokens: int = 64,
                 padding: str = 'max_length',
                 use_attention_mask: bool = False,
                 lowercase: bool = False,
                 freeze: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import SiglipTextConfig, SiglipTextModel

        if padding not in ('max_length', 'longest'):
            raise ValueError(
                f'padding must be "max_length" or "longest", got {padding}')
        if text_config is not None:
            self.siglip = SiglipTextModel(
                SiglipTextConfig(**dict(text_config)))
        elif pretrained is not None:
            self.siglip = SiglipTextModel.from_pretrained(pretrained)
        else:
            raise ValueError(
                'SiglipTextEncoder needs `pretrained` or `text_config`.')
        source = str(tokenizer if tokenizer is not None else pretrained)
        self.tokenizer = self.load_tokenizer(
            dict(lowercase=lowercase), source, local_files_only=False)
        if self.tokenizer.pad_token_id is None:
            raise ValueError(f'The tokenizer of {source!r} has no pad '
                             'token, which SiglipTextEncoder pads with.')
        self.check_sizes(self.tokenizer, self.siglip.config, max_tokens)
        self.max_tokens = max_tokens
        self.padding = padding
        self.use_attention_mask = use_attention_mask
        self.lowercase = lowercase
        self.out_channels = self.siglip.config.hidden_size
        self.expression_log = ExpressionLog(type(self).__name__)
        if freeze:
            self.siglip.requires_grad_(False)

    def tokenize(self, texts: List[str]) -> Tuple[Tensor, Tensor]:
        """Tokenize a batch of expressions.

        Args:
            texts (list[str]): B referring expressions.

        Returns:
            tuple[Tensor, Tensor]: ``input_ids`` (B, L) long and
            ``attention_mask`` (B, L) long, 1 for the expression's
            tokens; L is ``max_tokens`` or the longest in the batch.
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
        device = self.siglip.get_input_embeddings().weight.device
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

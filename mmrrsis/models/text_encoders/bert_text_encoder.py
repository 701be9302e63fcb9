"""BERT text encoder: raw referring expressions in, word features out."""
import os.path as osp
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmrrsis.models.utils import TextFeatures, pool_words
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

from .base_text_encoder import ExpressionLog
from .hf_text_encoder import HFTextEncoder
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab

TRUNCATIONS = ('keep_sep', 'reference')
SENTENCE_VECTORS = (None, 'masked_mean', 'mean', 'cls')


def build_bert_tokenizer(vocab: Optional[str] = None,
                         pretrained: Optional[str] = None,
                         lowercase: bool = True):
    """Build a (fast) BERT WordPiece tokenizer without network access.

    Args:
        vocab (str, optional): ``'mmrrsis-tiny'`` for the vocabulary that
            ships with mmrrsis, a ``vocab.txt`` file (one token a line),
            or a folder holding a saved tokenizer. None means: use
            ``pretrained``. Defaults to None.
        pretrained (str, optional): Model name or local folder passed to
            ``BertTokenizerFast.from_pretrained`` when ``vocab`` is None.
            Defaults to None.
        lowercase (bool): Lower-case the text first (uncased models).
            Defaults to True.

    Returns:
        transformers.BertTokenizerFast: The tokenizer.
    """
    from transformers import BertTokenizerFast

    specials = dict(
        unk_token='[UNK]',
        sep_token='[SEP]',
        pad_token='[PAD]',
        cls_token='[CLS]',
        mask_token='[MASK]')
    if vocab is None:
        if pretrained is None:
            raise ValueError('A tokenizer needs `vocab` or `pretrained`.')
        return BertTokenizerFast.from_pretrained(
            pretrained, do_lower_case=lowercase)
    if vocab == TINY_VOCAB_NAME or osp.isfile(vocab):
        from tokenizers.implementations import BertWordPieceTokenizer
        if vocab == TINY_VOCAB_NAME:
            tokens = tiny_vocab()
        else:
            with open(vocab, encoding='utf-8') as f:
                tokens = [line.rstrip('\n') for line in f]
        vocab = {token: i for i, token in enumerate(tokens)}
        wordpiece = BertWordPieceTokenizer(vocab, lowercase=lowercase)
        return BertTokenizerFast(
            tokenizer_object=wordpiece._tokenizer,
            do_lower_case=lowercase,
            **specials)
    if osp.isdir(vocab):
        return BertTokenizerFast.from_pretrained(
            vocab, do_lower_case=lowercase)
    raise FileNotFoundError(
        f'vocab="{vocab}" is neither "{TINY_VOCAB_NAME}", a vocab file nor '
        'a tokenizer folder.')


@MODELS.register_module()
class BertTextEncoder(HFTextEncoder):
    """Encode referring expressions with a HuggingFace ``BertModel``.

    The encoder owns its tokenizer: it takes the raw strings of a batch,
    tokenizes them into word pieces, adds ``[CLS]``/``[SEP]``, applies the
    token limit ``max_tokens`` and pads, runs BERT without its pooler and
    returns :class:`~mmrrsis.models.utils.TextFeatures`: the last hidden
    layer (``words``), the attention mask (``mask``) and, if
    ``sentence`` is set, one vector per expression. LAVT's setting is
    ``max_tokens=20`` with every sentence padded to that length
    (``padding='max_length'``); ``padding='longest'`` pads only to the
    longest sentence of the batch. Features at padded positions are what
    BERT computes there; consumers must use the mask.

    Truncation, for an expression of more than ``max_tokens - 2`` word
    pieces:

    - ``'keep_sep'`` (default) keeps ``[CLS]``, the first
      ``max_tokens - 2`` pieces and ``[SEP]``, so every expression ends
      with ``[SEP]`` as BERT was pretrained;
    - ``'reference'`` adds ``[CLS]``/``[SEP]`` first and then cuts the ids
      to ``max_tokens``, as the LAVT, RMSIN and RRSIS loaders do: a long
      expression keeps one more word piece and loses ``[SEP]``. Use it
      with weights trained by that code (the configs that reproduce those
      recipes do).

    Both give the same ids for expressions that fit.

    Input checks (counted by :class:`ExpressionLog`, logged at the first
    case and then at 10, 100, ... cases, never once per batch; counts in
    :attr:`expression_log`): expressions cut to ``max_tokens``, and
    expressions whose word pieces are all ``[UNK]`` (e.g. text in a script
    the vocabulary does not cover), which give the model no information.

    Three ways to build it:

    - ``pretrained='bert-base-uncased'`` (a hub name, or a local folder
      with ``config.json``, weights and ``vocab.txt``): weights and
      tokenizer from ``from_pretrained``;
    - ``bert_config=dict(...)``: a randomly initialised ``BertModel`` from
      ``BertConfig(**bert_config)`` (``dict()`` is bert-base), nothing is
      downloaded; the tokenizer comes from ``vocab`` (or ``pretrained``);
    - ``vocab`` may also override the tokenizer of a pretrained model.

    Offline setup (:class:`~.hf_text_encoder.HFTextEncoder`):
    ``BertTextEncoder.offline_cfg(cfg, 'checkpoint')`` fills
    ``bert_config`` from ``pretrained``'s local ``config.json`` and
    ``vocab`` with its local tokenizer folder;
    ``offline_cfg(cfg, 'random')`` uses bert-base (or bert-large, by
    name) dimensions and the packaged vocabulary when they are not local;
    ``build_tokenizer(cfg)`` gives the tokenizer alone.

    Freezing (frozen parameters get ``requires_grad=False``):
    ``freeze=True`` freezes all of BERT; ``freeze_embeddings`` the
    embedding layer; ``frozen_layers`` the listed encoder layers (or the
    first k with an int). LAVT
    trains only layers 0-9 of bert-base: ``freeze_embeddings=True,
    frozen_layers=(10, 11)``. ``eval_mode=True`` keeps BERT in eval mode
    (no dropout) while the rest of the model trains, which is what LAVT's
    training script does (its BERT is never switched to train mode).

    A frozen encoder (no trainable parameter left) runs under
    ``torch.no_grad()``: nothing of it is kept for a backward pass.
    ``with_cp=True`` turns on gradient checkpointing of the encoder layers
    (HuggingFace's, non-reentrant), also when ``eval_mode`` keeps BERT in
    eval mode: a layer then keeps only its input and runs again in the
    backward pass, with the same result.

    Args:
        pretrained (str, optional): HF model name or folder. Defaults to
            ``'bert-base-uncased'``; ignored for the weights when
            ``bert_config`` is given.
        bert_config (dict, optional): Keyword arguments of ``BertConfig``;
            when given, BERT is built from it with random weights.
            Defaults to None.
        vocab (str, optional): Tokenizer source, see
            :func:`build_bert_tokenizer`; ``'mmrrsis-tiny'`` selects the
            packaged tiny vocabulary. Defaults to None (from
            ``pretrained``).
        max_tokens (int): Maximum number of tokens, [CLS] and [SEP]
            included. Defaults to 20.
        padding (str): ``'max_length'`` (pad to ``max_tokens``) or
            ``'longest'``. Defaults to ``'max_length'``.
        truncation (str): ``'keep_sep'`` or ``'reference'`` (see above).
            Defaults to ``'keep_sep'``.
        sentence (str, optional): What ``TextFeatures.sentence`` holds:
            None (nothing, as LAVT and RMSIN use no sentence vector),
            ``'masked_mean'`` or ``'mean'`` of the word features (see
            :func:`~mmrrsis.models.utils.pool_words`) or ``'cls'`` (the
            last hidden state of ``[CLS]``). Defaults to None.
        lowercase (bool): Lower-case the text. Defaults to True.
        freeze (bool): Freeze the whole encoder. Defaults to False.
        freeze_embeddings (bool): Freeze the embedding layer. Defaults to
            False.
        frozen_layers (Sequence[int] | int): Encoder layers to freeze;
            negative indices count from the end; an int k means the first
            k layers. Defaults to ().
        eval_mode (bool): Keep BERT in eval mode during training. Defaults
            to False.
        with_cp (bool): Gradient checkpointing of the encoder layers.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config;
            BERT itself is initialised when it is built. Defaults to None.
    """

    arch_key = 'bert_config'
    tokenizer_key = 'vocab'
    default_pretrained = 'bert-base-uncased'
    default_max_tokens = 20
    known_dims = (
        ('bert-large', dict(hidden_size=1024, num_hidden_layers=24,
                            num_attention_heads=16, intermediate_size=4096)),
        ('', {}),  # bert-base: BertConfig's defaults
    )

    @classmethod
    def hf_config_class(cls) -> type:
        from transformers import BertConfig
        return BertConfig

    @classmethod
    def load_tokenizer(cls, cfg: dict, source: str,
                       local_files_only: bool = True):
        # ``vocab`` is always local (the packaged name, a file, a folder)
        return build_bert_tokenizer(
            vocab=source, lowercase=cfg.get('lowercase', True))

    def __init__(self,
                 pretrained: Optional[str] = 'bert-base-uncased',
                 bert_config: OptConfigType = None,
                 vocab: Optional[str] = None,
                 max_tokens: int = 20,
                 padding: str = 'max_length',
                 truncation: str = 'keep_sep',
                 sentence: Optional[str] = None,
                 lowercase: bool = True,
                 freeze: bool = False,
                 freeze_embeddings: bool = False,
                 frozen_layers: Union[Sequence[int], int] = (),
                 eval_mode: bool = False,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import BertConfig, BertModel

        if padding not in ('max_length', 'longest'):
            raise ValueError(
                f'padding must be "max_length" or "longest", got {padding}')
        if truncation not in TRUNCATIONS:
            raise ValueError(f'truncation must be one of {TRUNCATIONS}, got '
                             f'"{truncation}".')
        if sentence not in SENTENCE_VECTORS:
            raise ValueError(f'sentence must be one of {SENTENCE_VECTORS}, '
                             f'got "{sentence}".')
        if max_tokens < 2:
            raise ValueError(f'max_tokens={max_tokens} leaves no room for '
                             '[CLS] and [SEP].')
        self.max_tokens = max_tokens
        self.padding = padding
        self.truncation = truncation
        self.sentence = sentence
        self.expression_log = ExpressionLog(type(self).__name__)
        self.tokenizer = build_bert_tokenizer(
            vocab=vocab, pretrained=pretrained, lowercase=lowercase)
        if bert_config is not None:
            config = BertConfig(**dict(bert_config))
            self.bert = BertModel(config, add_pooling_layer=False)
        elif pretrained is not None:
            self.bert = BertModel.from_pretrained(
                pretrained, add_pooling_layer=False)
        else:
            raise ValueError(
                'BertTextEncoder needs `pretrained` or `bert_config`.')
        self.check_sizes(self.tokenizer, self.bert.config, max_tokens)
        self.out_channels = self.bert.config.hidden_size
        self.eval_mode = eval_mode

        num_layers = self.bert.config.num_hidden_layers
        if isinstance(frozen_layers, int):
            frozen_layers = range(frozen_layers)
        self.frozen_layers = sorted({i % num_layers for i in frozen_layers})
        if freeze:
            self.bert.requires_grad_(False)
        if freeze_embeddings:
            self.bert.embeddings.requires_grad_(False)
        for i in self.frozen_layers:
            self.bert.encoder.layer[i].requires_grad_(False)
        self.with_cp = with_cp
        if with_cp:
            self.bert.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs=dict(use_reentrant=False))

    def train(self, mode: bool = True) -> 'BertTextEncoder':
        """Set the train mode; BERT stays in eval mode if ``eval_mode``."""
        super().train(mode)
        if self.eval_mode:
            self.bert.eval()
            if self.with_cp:
                # HF checkpoints a layer only when the layer itself is in
                # training mode; its dropouts stay in eval mode
                for layer in self.bert.encoder.layer:
                    layer.training = mode
        return self

    @property
    def text_stats(self) -> Dict[str, int]:
        """Counts of :attr:`expression_log`: ``seen``, ``truncated``,
        ``unknown_only``."""
        return dict(self.expression_log.counts)

    def _token_ids(self, pieces: List[int], text: str) -> List[int]:
        """``[CLS] pieces [SEP]`` under the token limit, checks counted."""
        tok = self.tokenizer
        if pieces and all(p == tok.unk_token_id for p in pieces):
            self.expression_log.add(
                'unknown_only',
                f'every word piece of the expression "{text}" is '
                f'{tok.unk_token}: the vocabulary does not cover its '
                'script or words, so the model gets no information from it',
                f'consisted of {tok.unk_token} tokens only')
        ids = [tok.cls_token_id] + pieces + [tok.sep_token_id]
        if len(ids) <= self.max_tokens:
            return ids
        rule = ('[SEP] kept' if self.truncation == 'keep_sep' else
                '[SEP] lost, truncation="reference"')
        self.expression_log.add(
            'truncated',
            f'the expression "{text}" has {len(ids)} tokens with [CLS] and '
            f'[SEP] and was cut to max_tokens={self.max_tokens} ({rule})',
            f'were cut to max_tokens={self.max_tokens} ({rule})')
        if self.truncation == 'reference':
            return ids[:self.max_tokens]
        return ids[:self.max_tokens - 1] + [tok.sep_token_id]

    def tokenize(self, texts: List[str]) -> Tuple[Tensor, Tensor]:
        """Tokenize a batch of expressions.

        Args:
            texts (list[str]): B referring expressions.

        Returns:
            tuple[Tensor, Tensor]: ``input_ids`` (B, L) long and
            ``attention_mask`` (B, L) long, 1 for real tokens; L is
            ``max_tokens`` or the longest length in the batch.
        """
        texts = list(texts)
        pieces = self.tokenizer(
            texts, add_special_tokens=False, truncation=False)['input_ids']
        self.expression_log.seen(len(texts))
        ids = [self._token_ids(p, t) for p, t in zip(pieces, texts)]
        length = self.max_tokens if self.padding == 'max_length' else max(
            len(i) for i in ids)
        input_ids = torch.full((len(ids), length),
                               self.tokenizer.pad_token_id,
                               dtype=torch.long)
        attention_mask = torch.zeros((len(ids), length), dtype=torch.long)
        for row, token_ids in enumerate(ids):
            input_ids[row, :len(token_ids)] = torch.tensor(token_ids)
            attention_mask[row, :len(token_ids)] = 1
        device = self.bert.embeddings.word_embeddings.weight.device
        return input_ids.to(device), attention_mask.to(device)

    def encode(self, input_ids: Tensor,
               attention_mask: Tensor) -> TextFeatures:
        """Run BERT on token ids.

        Args:
            input_ids (Tensor): (B, L) token ids.
            attention_mask (Tensor): (B, L), 1 for real tokens.

        Returns:
            TextFeatures: ``words`` (B, L, C_t) last hidden layer,
            ``mask`` (B, L) float with 1 for real tokens, ``sentence``
            (B, C_t) or None (see ``sentence``), ``special`` (B, L) True
            at ``[CLS]`` and ``[SEP]``.
        """
        frozen = not any(p.requires_grad for p in self.bert.parameters())
        with torch.no_grad() if frozen else nullcontext():
            outputs = self.bert(
                input_ids=input_ids, attention_mask=attention_mask)
        return self.features(outputs.last_hidden_state, attention_mask,
                             input_ids)

    def features(self,
                 words: Tensor,
                 attention_mask: Tensor,
                 input_ids: Optional[Tensor] = None) -> TextFeatures:
        """The record of BERT's output.

        Args:
            words (Tensor): (B, L, C_t) last hidden layer.
            attention_mask (Tensor): (B, L), 1 for real tokens.
            input_ids (Tensor, optional): (B, L) the token ids, to mark the
                special tokens. Defaults to None (``special`` is None).

        Returns:
            TextFeatures: ``words``, ``mask`` (float), ``sentence`` (see
            ``sentence``) and ``special`` ((B, L) True at ``[CLS]`` and
            ``[SEP]``; None without ``input_ids``).
        """
        mask = attention_mask.to(words.dtype)
        sentence = None
        if self.sentence == 'cls':
            sentence = words[:, 0]
        elif self.sentence is not None:
            sentence = pool_words(words, mask, self.sentence)
        special = None
        if input_ids is not None:
            special = (input_ids == self.tokenizer.cls_token_id) | (
                input_ids == self.tokenizer.sep_token_id)
        return TextFeatures(words, mask, sentence, special=special)

    def forward(self, texts: Union[str, List[str]]) -> TextFeatures:
        """Encode raw expressions.

        Args:
            texts (str | list[str]): One expression or B expressions.

        Returns:
            TextFeatures: See :meth:`encode`.
        """
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            raise ValueError('BertTextEncoder got no texts.')
        input_ids, attention_mask = self.tokenize(texts)
        return self.encode(input_ids, attention_mask)


__all__ = ['BertTextEncoder', 'build_bert_tokenizer']

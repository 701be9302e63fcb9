"""Word embeddings + LSTM: the language side of RRN, LSCM and CMPC."""
import copy
import logging
import math
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import initialize
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mmrrsis.datasets.text_utils import normalize_text, split_words
from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig

from .base_text_encoder import (
    BaseTextEncoder,
    ExpressionLog,
    ExpressionTokenizer,
    TokenizerUnavailableError,
    check_purpose,
)
from .word_vocab import (
    PAD_WORD,
    TINY_WORD_VOCAB_NAME,
    UNK_WORD,
    load_word_embeddings,
    load_word_vocab,
    tiny_word_vocab,
)

SENTENCE_VECTORS = (None, 'last', 'max')
PARSE_TOOL = 'python tools/dataset_converters/parse_expressions.py CONFIG'


def _glorot_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6. / (fan_in + fan_out))


@MODELS.register_module()
class LSTMTextEncoder(BaseTextEncoder):
    """Encode referring expressions with word embeddings and an LSTM.

    What the LSTM-based referring models do (followed here: LSCM's
    ``LSCM_model_p2345.py`` and CMPC's ``CMPC_model.py``, both
    ``build_graph``, with ``util/text_processing.py``):

    - words: the expression lower-cased and split at non-word characters
      (:func:`~mmrrsis.datasets.text_utils.split_words`; LSCM: the tokens
      of the expression's dependency parse), at most ``max_tokens`` (CMPC
      20, LSCM 30), looked up in a word vocabulary (``<unk>`` for unknown
      words);
    - an embedding table, initialised from GloVe vectors (the references:
      ``glove.840B.300d``, 300-d; a config path, ``embeddings``) and
      trained;
    - one LSTM layer of 1000 units (TF ``BasicLSTMCell``: Glorot-uniform
      weights, zero bias, a forget-gate bias of 1) run over the real words
      only (the references pad in front and skip the padding steps; here
      padding is at the end and the LSTM is packed, the same outputs);
    - ``words``: the LSTM output of every word (0 at padding);
      ``sentence``: the last word's output (``'last'``, CMPC's
      ``lang_feat``) or the maximum over the words (``'max'``, LSCM's).

    The references feed one sample a step (batch 1); here a batch pads to
    its longest expression and every consumer masks the padding.

    With ``use_parse=True`` (LSCM) the encoder reads each sample's
    dependency parse, which the data pipeline attaches as
    ``metainfo['parse']`` (:class:`~mmrrsis.datasets.transforms.
    LoadExpressionParse`): its tokens are the words, and ``graph`` is the
    parse as word-to-word weights, 1 between a word and its head (both
    directions) and ``non_edge_weight`` (the reference's 0.1) between any
    other two words of the expression, itself included; 0 at padding. The
    segmentor passes the parses because :attr:`meta_keys` names them.

    Input checks are counted by :class:`ExpressionLog` (said at the first
    case, then at 10, 100, ... cases): expressions cut to ``max_tokens``,
    expressions of unknown words only, expressions without any word.

    Args:
        vocab (str): Word vocabulary: a file, one word a line (see
            :func:`~mmrrsis.models.text_encoders.word_vocab.load_word_vocab`),
            or ``'mmrrsis-tiny-words'`` (packaged).
        vocab_size (int, optional): Rows of the embedding table, at least
            the vocabulary's size. Defaults to None (the vocabulary's size).
        embed_dims (int): Word embedding width. Defaults to 300 (GloVe).
        hidden_dims (int): LSTM width, C_t. Defaults to 1000.
        num_layers (int): LSTM layers. Defaults to 1.
        embeddings (str, optional): Initial word vectors, loaded by
            :meth:`init_weights` (before training): a ``.npy`` (vocabulary
            size x ``embed_dims``) or a GloVe text file. None keeps random
            vectors (normal, std 0.6, what the reference gives words GloVe
            lacks). Defaults to None.
        freeze_embeddings (bool): Keep the word vectors fixed. Defaults to
            False (the references train them).
        max_tokens (int): Most words per expression. Defaults to 20.
        sentence (str, optional): ``TextFeatures.sentence``: ``'last'``,
            ``'max'`` or None. Defaults to ``'last'``.
        use_parse (bool): Read the words and the word graph from the
            samples' parses. Defaults to False.
        non_edge_weight (float): Graph weight of two words that the parse
            does not link. Defaults to 0.1.
        forget_bias (float): Initial bias of the forget gate. Defaults to
            1.0.
        dropout (float): Dropout on the word vectors and the LSTM outputs
            in training (the references' ``keep_prob`` 1: none). Defaults
            to 0.
        seed (int): Seed of the random word vectors. Defaults to 0.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 vocab: str,
                 vocab_size: Optional[int] = None,
                 embed_dims: int = 300,
                 hidden_dims: int = 1000,
                 num_layers: int = 1,
                 embeddings: Optional[str] = None,
                 freeze_embeddings: bool = False,
                 max_tokens: int = 20,
                 sentence: Optional[str] = 'last',
                 use_parse: bool = False,
                 non_edge_weight: float = 0.1,
                 forget_bias: float = 1.0,
                 dropout: float = 0.,
                 seed: int = 0,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if sentence not in SENTENCE_VECTORS:
            raise ValueError(f'sentence must be one of {SENTENCE_VECTORS}, '
                             f'got {sentence!r}.')
        if max_tokens < 1:
            raise ValueError(f'max_tokens must be positive, got {max_tokens}.')
        self.words = load_word_vocab(vocab)
        self.vocab = vocab
        self.word_ids = {w: i for i, w in enumerate(self.words)}
        size = len(self.words) if vocab_size is None else int(vocab_size)
        if size < len(self.words):
            raise ValueError(
                f'vocab_size={size} is smaller than the vocabulary '
                f'{vocab!r} ({len(self.words)} words).')
        self.pad_id = self.word_ids[PAD_WORD]
        self.unk_id = self.word_ids[UNK_WORD]
        self.max_tokens = max_tokens
        self.sentence = sentence
        self.use_parse = use_parse
        self.meta_keys = ('parse', ) if use_parse else ()
        self.non_edge_weight = float(non_edge_weight)
        self.out_channels = hidden_dims
        self.expression_log = ExpressionLog(type(self).__name__)

        self.embedding = nn.Embedding(size, embed_dims)
        self.lstm = nn.LSTM(
            embed_dims, hidden_dims, num_layers=num_layers, batch_first=True)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.embeddings = embeddings
        self.seed = seed
        self._init_reference(forget_bias, seed)
        if freeze_embeddings:
            self.embedding.requires_grad_(False)

    def _init_reference(self, forget_bias: float, seed: int) -> None:
        """TF's initialisation of the references (see the class doc)."""
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.embedding.weight.normal_(0., 0.6, generator=gen)
            hidden = self.lstm.hidden_size
            for layer in range(self.lstm.num_layers):
                w_ih = getattr(self.lstm, f'weight_ih_l{layer}')
                w_hh = getattr(self.lstm, f'weight_hh_l{layer}')
                # one TF kernel of shape (in + hidden, 4 hidden)
                limit = _glorot_limit(w_ih.shape[1] + hidden, 4 * hidden)
                w_ih.uniform_(-limit, limit, generator=gen)
                w_hh.uniform_(-limit, limit, generator=gen)
                getattr(self.lstm, f'bias_hh_l{layer}').zero_()
                bias = getattr(self.lstm, f'bias_ih_l{layer}')
                bias.zero_()
                bias[hidden:2 * hidden] = forget_bias  # torch: i, f, g, o

    def init_weights(self) -> None:
        """Load the word vectors of ``embeddings`` (when set), then apply
        ``init_cfg``.

        Called before training (mmengine's runner does), not when a
        checkpoint is tested, so a model whose checkpoint holds the vectors
        needs no GloVe file.
        """
        if self.embeddings is not None:
            table = load_word_embeddings(self.embeddings, self.words,
                                         self.embedding.embedding_dim,
                                         self.seed)
            with torch.no_grad():
                self.embedding.weight[:len(self.words)] = torch.from_numpy(
                    table).to(self.embedding.weight)
            print_log(
                f'LSTMTextEncoder: word vectors of {len(self.words)} words '
                f'loaded from {self.embeddings}',
                logger='current')
        if self.init_cfg:
            initialize(self, self.init_cfg)
        self._is_init = True

    # ------------------------------------------------------------ words
    def split(self, text: str) -> List[str]:
        """The words of an expression without a parse, uncut."""
        return split_words(text)

    def _words_of(self, text: str, parse: Optional[dict],
                  index: int) -> Tuple[List[str], Optional[List[int]]]:
        """Words (and parse heads) of one expression, checked."""
        if not self.use_parse:
            return self.split(text), None
        if not isinstance(parse, dict):
            raise ValueError(
                f'LSTMTextEncoder(use_parse=True): sample {index} ("{text}") '
                'has no dependency parse in metainfo["parse"]. Put '
                "dict(type='LoadExpressionParse', ...) in the pipeline "
                f'(after CleanText) and write the parses with {PARSE_TOOL}.')
        source = parse.get('text')
        if source is not None and normalize_text(source) != normalize_text(
                text):
            raise ValueError(
                f'The parse of sample {index} was made for "{source}" but '
                f'its expression is now "{text}": a transform changed the '
                'text after LoadExpressionParse; put LoadExpressionParse '
                'after every transform that changes the text.')
        return [str(t).lower() for t in parse['tokens']], list(parse['heads'])

    def _ids(self, words: List[str], text: str) -> List[int]:
        """Word ids under the token limit, checks counted."""
        if not words:
            self.expression_log.add(
                'empty', f'the expression "{text}" has no word; it is read '
                f'as one {UNK_WORD}', f'had no word ({UNK_WORD} used)')
            return [self.unk_id]
        if len(words) > self.max_tokens:
            self.expression_log.add(
                'truncated', f'the expression "{text}" has {len(words)} '
                f'words and was cut to max_tokens={self.max_tokens}',
                f'were cut to max_tokens={self.max_tokens}')
            words = words[:self.max_tokens]
        ids = [self.word_ids.get(w, self.unk_id) for w in words]
        if all(i == self.unk_id for i in ids):
            self.expression_log.add(
                'unknown_only', f'no word of the expression "{text}" is in '
                f'the vocabulary {self.vocab!r}: the model gets no '
                'information from it', 'consisted of unknown words only')
        return ids

    def tokenize(self,
                 texts: List[str],
                 parse: Optional[Sequence[Optional[dict]]] = None
                 ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Word ids of a batch (and, with ``use_parse``, the word graph).

        Args:
            texts (list[str]): B expressions.
            parse (Sequence[dict], optional): One parse per expression
                (``tokens``, ``heads``, ``text``), needed when
                ``use_parse``. Defaults to None.

        Returns:
            tuple: ``ids`` (B, L) long (``<pad>`` after the words),
            ``lengths`` (B, ) long, and ``graph`` (B, L, L) float or None;
            L is the longest expression of the batch.
        """
        if parse is None:
            parse = [None] * len(texts)
        if len(parse) != len(texts):
            raise ValueError(f'{len(texts)} expressions but {len(parse)} '
                             'parses.')
        self.expression_log.seen(len(texts))
        rows, heads = [], []
        for i, (text, tree) in enumerate(zip(texts, parse)):
            words, head = self._words_of(text, tree, i)
            rows.append(self._ids(words, text))
            heads.append(head)
        length = max(len(r) for r in rows)
        device = self.embedding.weight.device
        ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        for b, row in enumerate(rows):
            ids[b, :len(row)] = torch.tensor(row)
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        graph = None
        if self.use_parse:
            graph = torch.zeros(len(rows), length, length)
            for b, (row, head) in enumerate(zip(rows, heads)):
                n = len(row)
                graph[b, :n, :n] = self.non_edge_weight
                for i, h in enumerate(head[:n]):
                    if h != i and 0 <= h < n:
                        graph[b, i, h] = graph[b, h, i] = 1.
            graph = graph.to(device)
        return ids.to(device), lengths.to(device), graph

    # ---------------------------------------------------------- forward
    def encode(self, ids: Tensor, lengths: Tensor,
               graph: Optional[Tensor] = None) -> TextFeatures:
        """Run the embeddings and the LSTM on word ids.

        Args:
            ids (Tensor): (B, L) word ids, padding after the words.
            lengths (Tensor): (B, ) number of words of each row.
            graph (Tensor, optional): (B, L, L) word graph. Defaults to
                None.

        Returns:
            TextFeatures: ``words`` (B, L, C_t) LSTM outputs (0 at
            padding), ``mask`` (B, L), ``sentence`` (B, C_t) or None and
            ``graph`` (B, L, L) when one is given.
        """
        length = ids.shape[1]
        vectors = self.dropout(self.embedding(ids))
        packed = pack_padded_sequence(
            vectors, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (hidden, _) = self.lstm(packed)
        words, _ = pad_packed_sequence(
            out, batch_first=True, total_length=length)
        words = self.dropout(words)
        mask = (torch.arange(length, device=ids.device)[None] <
                lengths[:, None]).to(words.dtype)
        sentence = None
        if self.sentence == 'last':
            sentence = hidden[-1]
        elif self.sentence == 'max':
            sentence = words.masked_fill(mask[..., None] == 0,
                                         float('-inf')).amax(dim=1)
        return TextFeatures(words, mask, sentence, graph=graph)

    def forward(self,
                texts: Union[str, List[str]],
                parse: Optional[Sequence[Optional[dict]]] = None
                ) -> TextFeatures:
        """Encode raw expressions.

        Args:
            texts (str | list[str]): One expression or B expressions.
            parse (Sequence[dict], optional): Their parses (``use_parse``).
                Defaults to None.

        Returns:
            TextFeatures: See :meth:`encode`.
        """
        if isinstance(texts, str):
            texts = [texts]
            parse = None if parse is None else [parse]
        if len(texts) == 0:
            raise ValueError('LSTMTextEncoder got no texts.')
        ids, lengths, graph = self.tokenize(list(texts), parse)
        return self.encode(ids, lengths, graph)

    # ------------------------------------------------- offline set-up (C1)
    @staticmethod
    def _vocab_is_local(vocab) -> bool:
        return vocab == TINY_WORD_VOCAB_NAME or (isinstance(vocab, str)
                                                 and osp.isfile(vocab))

    @classmethod
    def offline_cfg(cls, cfg: dict, purpose: str = 'random') -> dict:
        """A copy of this encoder's config that builds with no network and
        no data files.

        Args:
            cfg (dict): The encoder's config node.
            purpose (str): ``'checkpoint'``: the word vectors will come
                from a checkpoint, so they are not read (``embeddings``
                dropped); the vocabulary file must be here (it fixes the
                word ids). ``'random'`` (counting, benchmarks): random
                vectors; without the vocabulary file, the packaged one
                padded to ``vocab_size`` rows (said in the log). Defaults
                to ``'random'``.

        Returns:
            dict: The config to build.
        """
        check_purpose(purpose)
        cfg = copy.deepcopy(dict(cfg))
        cfg['embeddings'] = None
        vocab = cfg.get('vocab')
        if cls._vocab_is_local(vocab):
            return cfg
        if purpose == 'checkpoint':
            raise TokenizerUnavailableError(
                f'The word vocabulary {vocab!r} is not on this machine; the '
                'checkpoint\'s word ids refer to it. Set '
                'model.text_encoder.vocab to the vocabulary file the model '
                'was trained with.')
        size = max(int(cfg.get('vocab_size') or 0), len(tiny_word_vocab()))
        print_log(
            f'LSTMTextEncoder: the vocabulary {vocab!r} is not here; the '
            f'packaged "{TINY_WORD_VOCAB_NAME}" stands in, with {size} '
            'embedding rows (vocab_size of the config, if it gives one).',
            logger='current',
            level=logging.WARNING)
        cfg.update(vocab=TINY_WORD_VOCAB_NAME, vocab_size=size)
        return cfg

    @classmethod
    def build_tokenizer(cls, cfg: dict) -> ExpressionTokenizer:
        """The word tokenizer of a config, from local files only.

        Args:
            cfg (dict): The encoder's config node.

        Returns:
            ExpressionTokenizer: ``encode(text)`` gives the word ids (no
            special tokens, uncut); with ``use_parse`` the model's words
            are the parse's tokens, which the split approximates.

        Raises:
            TokenizerUnavailableError: The vocabulary file is not here.
        """
        vocab = cfg.get('vocab')
        if not cls._vocab_is_local(vocab):
            raise TokenizerUnavailableError(
                f'The word vocabulary {vocab!r} is not on this machine (set '
                'model.text_encoder.vocab to its file).')
        words = load_word_vocab(vocab)
        index = {w: i for i, w in enumerate(words)}
        unk = index[UNK_WORD]

        def encode(text: str) -> List[int]:
            return [index.get(w, unk) for w in split_words(text)]

        note = (' (the model reads the dependency parse\'s tokens; this '
                'split approximates them)' if cfg.get('use_parse') else '')
        return ExpressionTokenizer(
            encode=encode,
            max_tokens=int(cfg.get('max_tokens', 20)),
            unk_id=unk,
            description=f'word split + vocabulary {vocab!r} '
            f'({len(words)} words){note}')


__all__ = ['LSTMTextEncoder']

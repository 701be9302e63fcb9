"""Text encoders: raw referring expressions in, a TextFeatures record out."""
from .base_text_encoder import BaseTextEncoder, ExpressionLog
from .bert_text_encoder import BertTextEncoder, build_bert_tokenizer
from .lstm_text_encoder import LSTMTextEncoder
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab
from .word_vocab import (
    TINY_WORD_VOCAB_NAME,
    build_word_vocab,
    load_word_embeddings,
    load_word_vocab,
    tiny_word_vocab,
)

__all__ = [
    'BaseTextEncoder', 'BertTextEncoder', 'ExpressionLog',
    'build_bert_tokenizer', 'TINY_VOCAB_NAME', 'tiny_vocab',
    'LSTMTextEncoder', 'TINY_WORD_VOCAB_NAME', 'build_word_vocab',
    'load_word_embeddings', 'load_word_vocab', 'tiny_word_vocab'
]

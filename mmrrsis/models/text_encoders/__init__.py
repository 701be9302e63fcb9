"""Text encoders: raw referring expressions in, a TextFeatures record out."""
from .base_text_encoder import (
    BaseTextEncoder,
    ExpressionLog,
    ExpressionTokenizer,
    TokenizerUnavailableError,
)
from .bert_text_encoder import BertTextEncoder, build_bert_tokenizer
from .phrase_bert_text_encoder import PhraseBertTextEncoder
from .siglip_text_encoder import SiglipTextEncoder
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab

__all__ = [
    'BaseTextEncoder', 'BertTextEncoder', 'ExpressionLog',
    'ExpressionTokenizer', 'PhraseBertTextEncoder', 'SiglipTextEncoder',
    'TokenizerUnavailableError', 'build_bert_tokenizer', 'TINY_VOCAB_NAME',
    'tiny_vocab'
]

"""Text encoders: raw referring expressions in, a TextFeatures record out;
each owns its tokenizer and its offline setup."""
from .base_text_encoder import (
    PURPOSES,
    BaseTextEncoder,
    ExpressionLog,
    ExpressionTokenizer,
    TokenizerUnavailableError,
    iter_text_encoder_cfgs,
    text_encoder_class,
)
from .bert_text_encoder import BertTextEncoder, build_bert_tokenizer
from .hf_text_encoder import HFTextEncoder
from .phrase_bert_text_encoder import PhraseBertTextEncoder
from .siglip_text_encoder import SiglipTextEncoder, stand_in_tokenizer
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab

__all__ = [
    'BaseTextEncoder', 'BertTextEncoder', 'ExpressionLog',
    'ExpressionTokenizer', 'HFTextEncoder', 'PURPOSES',
    'PhraseBertTextEncoder', 'SiglipTextEncoder',
    'TokenizerUnavailableError', 'build_bert_tokenizer',
    'iter_text_encoder_cfgs', 'stand_in_tokenizer', 'text_encoder_class',
    'TINY_VOCAB_NAME', 'tiny_vocab'
]

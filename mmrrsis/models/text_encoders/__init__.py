"""Text encoders: raw referring expressions in, word features out."""
from .bert_text_encoder import BertTextEncoder, build_bert_tokenizer
from .tiny_vocab import TINY_VOCAB_NAME, tiny_vocab

__all__ = [
    'BertTextEncoder', 'build_bert_tokenizer', 'TINY_VOCAB_NAME', 'tiny_vocab'
]

# The tiny LAVT with SigLIP's text tower instead of BERT (transformers'
# SiglipTextModel: 2 layers, 32 channels, random weights; the packaged
# stand-in tokenizer): a second text encoder, for the tests that a new
# encoder needs no edit outside its own file. Nothing is downloaded.
_base_ = ['./lavt_swin-tiny_refsegrs-64x64.py']
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
model = dict(
    text_encoder=dict(
        _delete_=True,
        type='SiglipTextEncoder',
        pretrained=None,
        text_config=dict(
            vocab_size=512,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=20),
        tokenizer='mmrrsis-tiny',
        max_tokens=20))

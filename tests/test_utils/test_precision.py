"""The precision switch of inference."""
import pytest
import torch

from mmrrsis.utils import PRECISIONS, autocast_context, check_precision


def test_contexts():
    assert PRECISIONS == ('fp32', 'bf16', 'fp16')
    x = torch.randn(4, 8)
    w = torch.randn(8, 3)
    with autocast_context('fp32'):
        assert (x @ w).dtype == torch.float32
    with autocast_context('bf16', 'cpu'):
        assert (x @ w).dtype == torch.bfloat16
    with pytest.raises(ValueError, match='CUDA'):
        check_precision('fp16', 'cpu')
    with pytest.raises(ValueError, match='precision must be'):
        autocast_context('half')
    assert check_precision('bf16', 'cpu') == 'bf16'

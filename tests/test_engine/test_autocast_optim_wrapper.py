import pytest
import torch
from torch import nn

from mmrrsis.engine import AutocastOptimWrapper
from mmrrsis.registry import OPTIM_WRAPPERS


def test_forward_runs_in_bfloat16_and_step_updates():
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='AutocastOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert isinstance(wrapper, AutocastOptimWrapper)
    x = torch.randn(16, 8)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    # outside the context the model is float32 again
    assert model(x).dtype == torch.float32
    ref = model(x)
    torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.05)
    loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32
    assert not torch.equal(model.weight, before)


def test_rejects_float16_on_cpu():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match='bfloat16'):
        AutocastOptimWrapper(
            dtype='float16',
            device_type='cpu',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))

"""StepInBackwardOptimWrapper: the update of each parameter runs inside
the backward pass (the full-model comparison with the plain wrapper is in
tests/test_models/test_optimised_paths.py)."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmrrsis.engine import StepInBackwardOptimWrapper
from mmrrsis.registry import OPTIM_WRAPPERS


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(),
                         nn.Linear(8, 3))


def _groups(model):
    """Two groups as mmengine's paramwise_cfg makes them: decay, no decay.
    """
    decay = [p for n, p in model.named_parameters() if n.endswith('weight')
             and p.ndim > 1]
    rest = [p for n, p in model.named_parameters() if not (
        n.endswith('weight') and p.ndim > 1)]
    return [dict(params=decay), dict(params=rest, weight_decay=0.0)]


def _adamw(model, **kwargs):
    return torch.optim.AdamW(
        _groups(model), lr=1e-2, weight_decay=0.05, **kwargs)


def _batches(n):
    gen = torch.Generator().manual_seed(1)
    return [(torch.randn(5, 6, generator=gen), torch.randn(5, 3,
                                                           generator=gen))
            for _ in range(n)]


def _train(model, wrapper, batches):
    for x, y in batches:
        with wrapper.optim_context(model):
            loss = (model(x).float() - y).pow(2).mean()
        wrapper.update_params(loss)


@pytest.mark.parametrize('fused', [False, True])
def test_same_parameters_as_optim_wrapper(fused):
    plain, fast = _model(), _model()
    batches = _batches(4)
    _train(plain, OptimWrapper(_adamw(plain, fused=fused)), batches)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='StepInBackwardOptimWrapper',
             optimizer=_adamw(fast, fused=fused)))
    seen = []

    # gradients are freed as soon as their parameter is updated: during
    # the backward pass, the first layer's gradient is still to come while
    # the last layer's is already gone
    def record(module, grad_input, grad_output):
        seen.append(fast[3].weight.grad)

    fast[1].register_full_backward_hook(record)
    _train(fast, wrapper, batches)
    assert seen and all(g is None for g in seen)
    assert all(p.grad is None for p in fast.parameters())
    for a, b in zip(plain.parameters(), fast.parameters()):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-6)
    assert not torch.equal(plain[0].weight, _model()[0].weight)


def test_scheduled_learning_rate_applies():
    model = _model()
    wrapper = StepInBackwardOptimWrapper(optimizer=_adamw(model))
    start = copy.deepcopy(model.state_dict())
    for group in wrapper.optimizer.param_groups:  # what a scheduler does
        group['lr'] = 0.0
    _train(model, wrapper, _batches(2))
    for name, value in model.state_dict().items():
        assert torch.equal(value, start[name]), name
    assert wrapper.get_lr()['lr'] == [0.0, 0.0]


def test_resume_from_state_dict_continues_identically():
    batches = _batches(4)
    whole = _model()
    _train(whole, StepInBackwardOptimWrapper(optimizer=_adamw(whole)),
           batches)
    first = _model()
    wrapper = StepInBackwardOptimWrapper(optimizer=_adamw(first))
    _train(first, wrapper, batches[:2])
    saved = copy.deepcopy((first.state_dict(), wrapper.state_dict()))
    # a new process: model and wrapper built afresh, then loaded
    resumed = _model()
    resumed.load_state_dict(saved[0])
    wrapper = StepInBackwardOptimWrapper(optimizer=_adamw(resumed))
    wrapper.load_state_dict(saved[1])
    _train(resumed, wrapper, batches[2:])
    for a, b in zip(whole.parameters(), resumed.parameters()):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-6)
    assert float(wrapper.optimizer.state[resumed[0].weight]['step']) == 4


def test_bfloat16_autocast_and_remove_hooks():
    model = _model()
    wrapper = StepInBackwardOptimWrapper(
        optimizer=_adamw(model), dtype='bfloat16', device_type='cpu')
    x = torch.randn(4, 6)
    with wrapper.optim_context(model):
        assert model(x).dtype == torch.bfloat16
    wrapper.remove_hooks()
    before = model[0].weight.detach().clone()
    model(x).sum().backward()  # an ordinary backward again
    assert torch.equal(model[0].weight, before)
    assert model[0].weight.grad is not None


@pytest.mark.parametrize('kwargs, match', [
    (dict(clip_grad=dict(max_norm=1.0)), 'clip'),
    (dict(accumulative_counts=2), 'accumulate'),
    (dict(dtype='float16'), 'loss scaling'),
])
def test_rejects_what_needs_all_gradients(kwargs, match):
    model = _model()
    with pytest.raises(ValueError, match=match):
        StepInBackwardOptimWrapper(optimizer=_adamw(model), **kwargs)

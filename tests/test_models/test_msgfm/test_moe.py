"""eofm.MoEMlp: top-k routing, gates, capacity and the load-balancing loss."""
import math

import pytest
import torch

from eofm.models.msgfm import MoEMlp
from eofm.registry import MODELS


def _moe(**kwargs):
    torch.manual_seed(0)
    return MoEMlp(embed_dims=16, feedforward_channels=32, **kwargs)


@pytest.mark.parametrize('top_k', [1, 2, 3])
def test_each_token_goes_to_k_experts_with_renormalised_gates(top_k):
    moe = _moe(num_experts=8, top_k=top_k, normalize_gates=True).train()
    x = torch.randn(4, 25, 16)
    y = moe(x)
    assert y.shape == x.shape
    r = moe.last_routing
    assert r['indices'].shape == (100, top_k)
    # k distinct experts per token
    assert all(len(set(row)) == top_k for row in r['indices'].tolist())
    torch.testing.assert_close(r['gates'].sum(-1), torch.ones(100))


def test_output_is_gate_weighted_sum_of_chosen_experts():
    moe = _moe(num_experts=4, top_k=2).eval()  # eval: no router noise
    x = torch.randn(10, 16)
    y = moe(x)
    r = moe.last_routing
    manual = torch.zeros_like(x)
    for n in range(10):
        for slot in range(2):
            e = r['indices'][n, slot].item()
            manual[n] += r['gates'][n, slot] * moe.experts[e](x[n:n + 1])[0]
    torch.testing.assert_close(y, manual)
    # eval routing is the clean top-k of the router probabilities
    assert torch.equal(r['indices'], r['probs'].topk(2, dim=-1).indices)


def test_top1_gate_keeps_router_probability_by_default():
    moe = _moe(num_experts=8, top_k=1).eval()
    x = torch.randn(20, 16)
    moe(x)
    r = moe.last_routing
    torch.testing.assert_close(r['gates'][:, 0], r['probs'].max(-1).values)
    moe = _moe(num_experts=8, top_k=1, normalize_gates=True).eval()
    moe(x)
    torch.testing.assert_close(moe.last_routing['gates'], torch.ones(20, 1))


def _uniform_and_collapsed(moe):
    x = torch.rand(256, 16) + 0.1  # positive tokens
    with torch.no_grad():
        moe.gate.weight.zero_()
    moe(x)
    uniform = moe.aux_loss.item()
    with torch.no_grad():
        moe.gate.weight[0] = 5.0  # every token prefers expert 0
    moe(x)
    return uniform, moe.aux_loss.item()


def test_importance_load_loss_minimum_for_uniform_router():
    moe = _moe(num_experts=8, top_k=1).train()
    uniform, collapsed = _uniform_and_collapsed(moe)
    assert uniform == pytest.approx(0.0, abs=1e-6)  # CV^2 minimum
    assert collapsed > 1.0


def test_switch_loss_minimum_for_uniform_router():
    moe = _moe(num_experts=8, top_k=2, aux_loss='switch').train()
    uniform, collapsed = _uniform_and_collapsed(moe)
    assert uniform == pytest.approx(1.0, abs=1e-5)  # E * sum f_e / E
    assert collapsed > 4.0


def test_aux_loss_trains_the_router():
    moe = _moe(num_experts=4, top_k=1).train()
    moe(torch.randn(64, 16))
    moe.aux_loss.backward()
    assert moe.gate.weight.grad is not None
    assert moe.gate.weight.grad.abs().sum() > 0


def test_capacity_drops_overflow_tokens():
    moe = _moe(num_experts=8, top_k=1, capacity_factor=1.0).eval()
    x = torch.rand(64, 16) + 0.1
    with torch.no_grad():
        moe.gate.weight.zero_()
        moe.gate.weight[0] = 5.0
    y = moe(x)
    keep = moe.last_routing['keep']
    cap = math.ceil(64 / 8)
    assert int(keep.sum()) == cap
    dropped = ~keep[:, 0]
    assert torch.all(y[dropped] == 0)
    # without capacity, nothing is dropped
    moe.capacity_factor = None
    moe(x)
    assert bool(moe.last_routing['keep'].all())


def test_registered_and_argument_errors():
    moe = MODELS.build(dict(type='eofm.MoEMlp', embed_dims=8, feedforward_channels=16))
    assert moe.num_experts == 8 and moe.top_k == 1
    with pytest.raises(ValueError, match='top_k'):
        MoEMlp(8, 16, num_experts=4, top_k=5)
    with pytest.raises(ValueError, match='aux_loss'):
        MoEMlp(8, 16, aux_loss='gshard')

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


def _loop_reference(moe, x):
    """The per-expert loop the dispatch replaces (capacity by each expert's top
    gates, then one masked gather / scatter per expert), as a parity fixture."""
    tokens = x.reshape(-1, x.shape[-1])
    indices, gates, _, _ = moe.route(tokens)
    keep = torch.ones_like(indices, dtype=torch.bool)
    if moe.capacity_factor is not None:
        cap = math.ceil(moe.capacity_factor * moe.top_k * len(tokens) / moe.num_experts)
        keep = torch.zeros_like(indices, dtype=torch.bool)
        flat_idx, flat_gate, flat_keep = indices.reshape(-1), gates.reshape(-1), keep.view(-1)
        for ex in range(moe.num_experts):
            pos = (flat_idx == ex).nonzero(as_tuple=True)[0]
            if pos.numel() > cap:
                pos = pos[flat_gate[pos].topk(cap).indices]
            flat_keep[pos] = True
    out = torch.zeros_like(tokens)
    for ex, expert in enumerate(moe.experts):
        tok, slot = ((indices == ex) & keep).nonzero(as_tuple=True)
        if len(tok):
            out.index_add_(0, tok, expert(tokens[tok]) * gates[tok, slot, None])
    return out.reshape(x.shape), keep


@pytest.mark.parametrize('top_k,capacity', [(1, None), (2, None), (2, 1.0), (1, 0.5),
                                            (3, 1.25)])
def test_sorted_dispatch_equals_the_per_expert_loop(top_k, capacity):
    moe = _moe(num_experts=8, top_k=top_k, capacity_factor=capacity).eval()
    with torch.no_grad():  # a skewed router, so that capacity drops assignments
        moe.gate.weight.normal_(0, 0.5)
        moe.gate.weight[0] += 0.5
    x = torch.randn(3, 40, 16, requires_grad=True)
    ref, keep_ref = _loop_reference(moe, x)
    y = moe(x)
    assert torch.equal(moe.last_routing['keep'], keep_ref)
    if capacity is not None and capacity < 1.1:
        assert not bool(keep_ref.all())  # the case exercises dropping
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-6)
    g_ref, = torch.autograd.grad(ref.square().sum(), x)
    g, = torch.autograd.grad(y.square().sum(), x)
    torch.testing.assert_close(g, g_ref, rtol=1e-6, atol=1e-6)


def test_dispatch_under_bf16_autocast_keeps_the_input_dtype():
    moe = _moe(num_experts=4, top_k=2).eval()
    x = torch.randn(2, 10, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = moe(x)
    assert y.dtype == x.dtype
    torch.testing.assert_close(y, moe(x), rtol=0.05, atol=0.05)

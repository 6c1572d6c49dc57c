"""Fix 6 of eofm.utils.compat: attention that autograd records on the CPU under bf16
runs in fp32 and returns bf16; everything else is PyTorch's own function."""
import torch
import torch.nn.functional as F

import eofm  # noqa: F401  (applies the fixes)
from eofm.utils import compat


def _qkv(dtype=torch.float32, grad=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(6, 2, 16, 32, generator=g).to(dtype).requires_grad_(grad)
        for _ in range(3)
    ]


def test_installed_on_import():
    assert F.scaled_dot_product_attention is compat._scaled_dot_product_attention
    assert compat._STOCK_SDPA is not compat._scaled_dot_product_attention
    compat.install_cpu_bf16_attention()  # idempotent: the stock one stays known
    assert compat._STOCK_SDPA is torch._C._nn.scaled_dot_product_attention


def test_training_under_cpu_bf16_autocast_runs_in_fp32():
    q, k, v = _qkv()
    mask = torch.randn(6, 1, 1, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.dtype == torch.bfloat16  # what autocast returns
    want = compat._STOCK_SDPA(q, k, v, mask).to(torch.bfloat16)
    assert torch.equal(out, want)  # fp32 attention, rounded once
    out.float().square().sum().backward()
    assert q.grad.dtype == torch.float32 and torch.isfinite(q.grad).all()
    # bf16 inputs outside autocast (a model cast to bf16) take the same path
    qb, kb, vb = (t.detach().to(torch.bfloat16).requires_grad_() for t in (q, k, v))
    out_b = F.scaled_dot_product_attention(qb, kb, vb, is_causal=True)
    want_b = compat._STOCK_SDPA(qb.float(), kb.float(), vb.float(), is_causal=True)
    assert out_b.dtype == torch.bfloat16 and torch.equal(out_b, want_b.bfloat16())
    out_b.float().sum().backward()
    assert qb.grad.dtype == torch.bfloat16


def test_other_calls_are_the_stock_function():
    q, k, v = _qkv(torch.bfloat16, grad=False)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):  # inference
        out = F.scaled_dot_product_attention(q, k, v, scale=0.3)
        stock = compat._STOCK_SDPA(q, k, v, scale=0.3)
    assert torch.equal(out, stock)
    q, k, v = _qkv()  # fp32 training
    assert torch.equal(F.scaled_dot_product_attention(q, k, v),
                       compat._STOCK_SDPA(q, k, v))


def test_multihead_attention_goes_through_it():
    """``nn.MultiheadAttention`` (mmseg's ViT layers) reaches the fixed function."""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(64, 2, batch_first=True)
    x = torch.randn(3, 10, 64, requires_grad=True)
    calls = []
    stock = compat._STOCK_SDPA

    def spy(*args, **kwargs):
        calls.append(args[0].dtype)
        return stock(*args, **kwargs)

    compat._STOCK_SDPA = spy
    try:
        with torch.autocast('cpu', dtype=torch.bfloat16):
            y, _ = mha(x, x, x, need_weights=False)
    finally:
        compat._STOCK_SDPA = stock
    assert calls == [torch.float32] and y.dtype == torch.bfloat16

"""count_params.py and benchmark_skysense.py: exact counts, the counting method, CLIs.

The huge model is built on the meta device (no memory); every expected number is
derived from the architecture below, not copied from the tool.
"""
import json
import re
import subprocess

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tools.analysis_tools.count_params import (ARCH_INPUTS, build_model, count_flops,
                                               count_parameters, make_inputs,
                                               skysense_cfg)

D, LAYERS, MLP = 1024, 24, 4096  # ViT-L and the fusion: width, depth, FFN width
HR_DIMS = 2816  # Swin V2-H last stage (352 * 8)


def _encoder_layer(d=D, hidden=MLP):
    """mmseg/mmcv pre-norm layer: qkv + out projection, FFN, two LayerNorms."""
    return (3 * d * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + \
        (hidden * d + d) + 2 * 2 * d


def _vit_large(bands):
    patch = D * bands * 4 * 4 + D  # 4 x 4 patches, with bias
    return LAYERS * _encoder_layer() + (16 * 16 + 1) * D + D + patch  # pos, cls


VIT_S2 = _vit_large(10)
VIT_S1 = _vit_large(2)
CTPE = 365 * HR_DIMS
UP_HEAD = D * HR_DIMS * 16 + HR_DIMS * 16  # Conv1x1 1024 -> 2816 * 4^2
FUSION = (HR_DIMS * D + D) + D + LAYERS * _encoder_layer()  # porj_linear, cls
GEO = 4096 * 100 * D
SWIN_V2_H = 655_074_704  # mmpretrain SwinTransformerV2 'huge', out_indices=(3, )


def test_expected_numbers_by_hand():
    assert VIT_S2 == 302_738_432
    assert VIT_S1 == 302_607_360  # 2 bands: 131,072 fewer patch weights
    assert CTPE == 1_027_840
    assert UP_HEAD == 46_182_400
    assert FUSION == 305_195_008
    assert FUSION + 2 * UP_HEAD == 397_559_808  # paper Table J12: "398M"
    assert GEO == 419_430_400  # the paper's text (4096 x 100 x 1024); J12 says 215M


@pytest.fixture(scope='module')
def huge():
    model = build_model(skysense_cfg('huge'))
    assert all(p.is_meta for p in model.parameters())
    return model


def test_huge_parameter_counts(huge):
    counts = count_parameters(huge)
    assert counts['hr'] == SWIN_V2_H
    assert counts['s2'] == VIT_S2  # the release's S2 file: these + the date table
    assert counts['fusion.ctpe'] == CTPE
    assert counts['s1'] == VIT_S1
    assert counts['up_heads.s2'] == counts['up_heads.s1'] == UP_HEAD
    assert counts['fusion'] == FUSION + CTPE
    assert counts['geo_context'] == GEO
    assert counts['other'] == 0
    assert counts['total'] == SWIN_V2_H + VIT_S2 + CTPE + VIT_S1 + 2 * UP_HEAD + \
        FUSION + GEO == 2_078_438_544


def test_huge_fusion_flops(huge):
    """Release inputs: 64 x 64 locations, [cls, HR, 20 S2, 10 S1] = 32 tokens."""
    huge.eval()
    flops = count_flops(huge, make_inputs(huge, ARCH_INPUTS['huge']))
    n, loc = 32, 64 * 64
    per_layer = 2 * n * (D * 3 * D + D * D + 2 * D * MLP) + 2 * 2 * n * n * D
    expected = loc * (2 * (n - 1) * HR_DIMS * D + LAYERS * per_layer)
    assert flops['fusion'] == expected
    assert flops['up_heads.s2'] == 20 * 2 * 16 * 16 * D * HR_DIMS * 16
    assert flops['geo_context'] == 2 * 2 * loc * 100 * D  # Q P^T and attn P
    assert flops['other'] == 0
    assert flops['total'] == sum(v for k, v in flops.items() if k != 'total')


def test_count_flops_of_a_linear_layer():
    batch, cin, cout = 5, 64, 32
    for bias in (True, False):
        with torch.device('meta'):
            layer = nn.Linear(cin, cout, bias=bias)
        x = torch.empty(batch, cin, device='meta')
        assert count_flops(layer, x, parts=[])['total'] == 2 * cin * cout * batch
    # forward + backward: the weight gradient costs one more forward (no input grad)
    total = count_flops(layer, x, parts=[], backward=True)['total']
    assert total == 2 * 2 * cin * cout * batch


def test_attention_flops_on_cpu_match_meta():
    """The CPU flash-attention kernel is counted like the meta math path."""
    attn = nn.Module()
    attn.forward = lambda q: F.scaled_dot_product_attention(q, q, q)
    b, h, length, d = 2, 4, 16, 8
    expected = 2 * (2 * b * h * length * length * d)
    for device in ('cpu', 'meta'):
        q = torch.randn(b, h, length, d, device=device)
        assert count_flops(attn, q, parts=[])['total'] == expected


def _run(args, repo_root, cli_env, python_exe, check=True):
    proc = subprocess.run(
        [python_exe] + args,
        cwd=repo_root,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_count_params_cli_tiny_flops(repo_root, cli_env, python_exe):
    proc = _run(['tools/analysis_tools/count_params.py', '--arch', 'tiny', '--flops'],
                repo_root, cli_env, python_exe)
    out = proc.stdout
    expected = count_parameters(build_model(skysense_cfg('tiny')))
    rows = dict(re.findall(r'^(\S+)\s+[\d.,]+\s+([\d,]+)\s*$', out, re.M))
    for part in ('hr', 's2', 's1', 'up_heads.s2', 'fusion', 'geo_context'):
        assert int(rows[part].replace(',', '')) == expected[part]
    totals = re.findall(r'^total\s+[\d.,]+\s+([\d,]+)', out, re.M)
    assert int(totals[0].replace(',', '')) == expected['total']
    assert 'forward FLOPs' in out and 'hr 1x3x256x256, s2 1x8x10x32x32' in out
    assert int(totals[1].replace(',', '')) > 10**9  # about 1.2 GFLOPs per sample
    assert 'paper J12' not in out  # the paper's numbers go with the huge arch only


def test_count_params_cli_errors(repo_root, cli_env, python_exe):
    proc = _run(['tools/analysis_tools/count_params.py', 'no/such/config.py'],
                repo_root,
                cli_env,
                python_exe,
                check=False)
    assert proc.returncode != 0 and 'no/such/config.py' in proc.stderr
    proc = _run([
        'tools/analysis_tools/count_params.py', 'tiny', '--flops', '--input-shape',
        'hr=3,100,100'
    ],
                repo_root,
                cli_env,
                python_exe,
                check=False)
    assert proc.returncode != 0 and 'up-head scale' in proc.stderr


def test_benchmark_cli_writes_json(tmp_path, repo_root, cli_env, python_exe):
    out = tmp_path / 'bench.json'
    _run([
        'tools/analysis_tools/benchmark_skysense.py', '--arch', 'tiny', '--iters', '1',
        '--warmup', '0', '--threads', '1', '--batch-size', '1', '--input-shape',
        'hr=3,128,128', 's2=4,10,16,16', 's1=4,2,16,16', '--out',
        str(out)
    ], repo_root, cli_env, python_exe)
    report = json.loads(out.read_text())
    assert report['device'] == 'cpu' and report['matmul_peak_flops_per_s']['fp32'] > 0
    (res, ) = report['results']
    assert res['arch'] == 'tiny' and res['up_head_scale'] == 1
    assert res['inputs']['s2'] == [4, 10, 16, 16]
    for key in ('params', 'flops_forward', 'flops_forward_backward', 'time_forward_s',
                'time_forward_backward_s', 'flops_per_s_forward',
                'flops_per_s_forward_backward', 'peak_memory_forward_bytes',
                'peak_memory_forward_backward_bytes'):
        assert res[key] > 0, key
    assert 2.5 < res['flops_forward_backward'] / res['flops_forward'] < 3.01
    assert res['peak_memory_forward_backward_bytes'] > res['peak_memory_forward_bytes']

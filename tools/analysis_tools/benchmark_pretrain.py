"""Benchmark one pretraining step of any eofm pretraining config: time, parts, memory.

Works for every eofm pretraining config (SkySense, msGFM, OmniSat, AnySat, ...): the
model, optimizer and train dataset are built from ``--config`` (default: the tiny
SkySense CPU pretraining config). For each ``--preset`` the config gets the preset's
overrides:

* ``small``: the config as is;
* ``medium``: ``model.backbone.arch='small'``; for SkySense also that arch's
  geo-context size (16 prototypes in 8 x 16 regions). Only for models whose
  backbone has a named ``arch`` preset (SkySense, msGFM). The default presets are ``small medium`` for SkySense
  configs and ``small`` for the others.

One step is what the runner's ``train_step`` does: data loading (the train
dataset's ``__getitem__`` for each sample of the batch, the config's collate
function (``eofm.multimodal_collate`` by default) and
``model.data_preprocessor(data, True)``), the forward ``model(**data,
mode='loss')`` with ``model.parse_losses`` (the sum), the backward
(``optim_wrapper.backward``) and the optimizer step (``optim_wrapper.step`` with the
config's gradient clipping, then ``zero_grad``), with the optimizer of the config;
then the teacher EMA (``model.update_teacher()``) when the config has
``eofm.TeacherEMAHook`` (SkySense, AnySat). Batches: samples drawn at random
(seeded, ``batch_size`` of the dataloader or ``--batch-size``) from the train split,
or, when the train dataloader has a ``batch_sampler`` (e.g. msGFM's
``eofm.HeterogeneousBatchSampler``: one batch per source per step), the batches of
that sampler (seeded, epoch after epoch); ``samples_per_step`` is then what the
sampler yields. Data: ``--data-root`` (default: eofm's sample dataset generated into
a temporary folder). Measured:

* **step time**: the median over ``--iters`` steps after ``--warmup`` untimed
  ones, without the profiler; **samples/s** = samples per step / that median. The
  data, forward, backward and optimizer times of these steps are timed directly
  (``time.perf_counter``, after ``torch.cuda.synchronize`` on CUDA);
* **parts**: ``--iters`` more steps run under ``torch.profiler`` (CPU). Data,
  backward, optimizer step and teacher EMA are timed directly. For SkySense the
  forward is split by the ``record_function`` ranges of the model (their CPU
  total time, i.e. the wall time of each range): the backbone parts
  ``skysense.{hr,s2,s1,up_heads,fusion,geo_context}`` (called in both the student
  and the teacher forward: summed over both, and reported per branch by walking
  each range's parents up to ``pretrain.student`` / ``pretrain.teacher``), the
  MGCL losses (``pretrain.mgcl`` minus the ``pretrain.sinkhorn`` ranges inside
  it), Sinkhorn, the cross-modal alignment, the prototype update and the teacher
  EMA; other models report the forward as one part. ``other`` is the rest of the
  step (the forward outside these ranges, e.g. the loss sum and the unlabelled
  code between the ranges). Each share is the part's time over the profiled steps
  divided by their wall time, so the shares sum to 1; the profiler's overhead
  (profiled / unprofiled step time) is reported with them;
* **peak memory**: on the CPU, the highest total of tensor bytes that PyTorch's
  allocator handed out during one more step above what was live before it, from
  the allocation and free events of ``torch.profiler`` (``profile_memory``), as in
  ``benchmark_skysense.py`` (tensors only, with the data loading), and the
  process's peak resident set size (``peak_rss_bytes``: the ``VmHWM`` high-water
  mark of the process after the steps, i.e. model, optimizer state, data
  and Python included); on CUDA (``--device cuda``) the maximum of
  ``torch.cuda.max_memory_allocated`` over that step above what was allocated
  before it, and over the timed steps (``cuda_max_allocated_bytes``, everything
  allocated);
* **FLOPs** of that same step: ``FlopCounterMode`` (matrix products only,
  1 multiply-add = 2 FLOPs, forward + backward), and the achieved FLOP/s (FLOPs /
  median step time) against the **matmul peak** measured in the same run (best
  of several ``2048 x 2048 @ 2048 x 2048`` fp32 matmuls).

The model's state moves on between steps (EMA teacher, prototypes, DINO centres,
AdamW), as in training. Other processes on the same cores slow the timings down:
the 1-minute load average before the run is printed and written. The precisions of
``--precision fp32 bf16`` are measured one after another; ``--alternate N`` also
times ``N`` steps of each called in turn (one model per precision, built alike), and
reports that bf16 / fp32 ratio (``alternating``), which a change of load hits alike.

Examples::

    python tools/analysis_tools/benchmark_pretrain.py --preset small medium \\
        --iters 3 --out work_dirs/benchmark_pretrain.json
    python tools/analysis_tools/benchmark_pretrain.py \\
        --config configs/msgfm/msgfm-pretrain_swin-tiny_1xb4-100it_eofm-sample-192px.py \\
        --iters 3 --out work_dirs/benchmark_pretrain_msgfm.json
"""
import argparse
import contextlib
import functools
import itertools
import logging
import os
import os.path as osp
import random
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

# Run as a script, the repository root is not on sys.path.
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from eofm.utils.benchmark import (CUSTOM_FLOPS, alternate, device_name,  # noqa: E402
                                  matmul_peak, peak_memory, peak_rss_bytes, sync,
                                  write_json)
from eofm.utils.precision import autocast, resolve_precision  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join('configs', 'skysense',
                          'skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py')
# Config overrides (mmengine's merge_from_dict keys) of each preset, for SkySense.
PRESETS = {
    'small': {},
    'medium': {
        'model.backbone.arch': 'small',
        'model.backbone.geo': dict(num_prototypes=16, n_lat=8, n_lon=16),
    },
}
# ... and for the other models (whose backbone has an ``arch``).
GENERIC_PRESETS = {
    'small': {},
    'medium': {
        'model.backbone.arch': 'small'
    },
}
ENCODERS = ('hr', 's2', 's1', 'up_heads')
BACKBONE_PARTS = ENCODERS + ('fusion', 'geo_context')
BRANCHES = ('student', 'teacher')
# The parts of a step; their shares sum to 1.
PARTS = ('data', ) + BACKBONE_PARTS + ('mgcl', 'sinkhorn', 'align', 'prototypes',
                                       'teacher_ema', 'backward', 'optimizer', 'other')
PART_NAMES = dict(
    data='data (load+collate+preprocess)',
    hr='encoder hr',
    s2='encoder s2',
    s1='encoder s1',
    up_heads='up heads',
    fusion='fusion',
    geo_context='geo-context',
    mgcl='MGCL losses (no Sinkhorn)',
    sinkhorn='Sinkhorn',
    align='cross-modal alignment',
    prototypes='prototype update',
    teacher_ema='teacher EMA',
    backward='backward',
    optimizer='optimizer step',
    other='other')
SUMMARY_NAMES = dict(
    encoders='encoders (hr+s2+s1+up)',
    forward='forward (all)',
    student_forward='student forward',
    teacher_forward='teacher forward')
# The parts of a step of the models without SkySense's labelled ranges.
GENERIC_PARTS = ('data', 'forward', 'backward', 'optimizer', 'teacher_ema', 'other')
PART_NAMES.update(forward='forward')
MEMORY_METHOD = ('torch.profiler allocation/free events (profile_memory): peak of '
                 'live tensor bytes above those live before the step')
CUDA_MEMORY_METHOD = ('torch.cuda.max_memory_allocated during the step above the '
                      'bytes allocated before it')
RSS_METHOD = 'VmHWM (getrusage ru_maxrss without /proc): peak resident set size of the process'


# ---------------------------------------------------------------------- the step
def random_batches(size, batch_size, seed=0):
    """Endless lists of ``batch_size`` indices drawn at random from ``size``."""
    rng = np.random.default_rng(seed)
    while True:
        yield [int(i) for i in rng.integers(size, size=batch_size)]


def sampler_batches(batch_sampler):
    """Endless batches of a batch sampler, epoch after epoch."""
    for epoch in itertools.count():
        if hasattr(batch_sampler, 'set_epoch'):
            batch_sampler.set_epoch(epoch)
        yield from batch_sampler


class PretrainStep:
    """One training step of ``model``; each call returns its timed phases (s).

    ``batches``: an iterator of index lists (default: ``batch_size`` random
    samples); ``collate``: the collate function (default
    ``eofm.multimodal_collate``); ``teacher_ema``: call ``model.update_teacher()``
    after the step (default: when the model has it).
    """

    def __init__(self,
                 model,
                 optim_wrapper,
                 dataset,
                 batch_size,
                 seed=0,
                 batches=None,
                 collate=None,
                 teacher_ema=None,
                 device=None,
                 precision='fp32'):
        from eofm.datasets import multimodal_collate
        self.model, self.optim_wrapper = model, optim_wrapper
        self.dataset, self.batch_size = dataset, batch_size
        self.batches = batches if batches is not None else random_batches(
            len(dataset), batch_size, seed)
        self.collate = collate or multimodal_collate
        self.teacher_ema = hasattr(
            model, 'update_teacher') if (teacher_ema is None) else bool(teacher_ema)
        self.device = device or torch.device('cpu')
        self.precision = precision  # a resolved one: 'fp32' or 'bf16'
        self.samples = []  # samples of each step

    def __call__(self):
        wait = functools.partial(sync, self.device)
        t0 = time.perf_counter()
        idx = next(self.batches)
        data = self.collate([self.dataset[int(i)] for i in idx])
        data = self.model.data_preprocessor(data, True)
        wait()
        t1 = time.perf_counter()
        with autocast(self.precision, self.device):  # as AmpOptimWrapper does
            loss, _ = self.model.parse_losses(self.model(**data, mode='loss'))
        wait()
        t2 = time.perf_counter()
        self.optim_wrapper.backward(loss)
        wait()
        t3 = time.perf_counter()
        self.optim_wrapper.step()
        self.optim_wrapper.zero_grad()
        wait()
        t4 = time.perf_counter()
        if self.teacher_ema:
            self.model.update_teacher()  # as eofm.TeacherEMAHook after each iteration
            wait()
        t5 = time.perf_counter()
        self.samples.append(len(idx))
        return dict(
            data=t1 - t0,
            forward=t2 - t1,
            backward=t3 - t2,
            optimizer=t4 - t3,
            teacher_ema=t5 - t4,
            step=t5 - t0)


def label_times(events):
    """{(label, branch): seconds} of the ``skysense.*``/``pretrain.*`` ranges.

    ``branch`` is 'student' or 'teacher' for a range inside ``pretrain.student``
    or ``pretrain.teacher``, else None. Times are the ranges' CPU total times.
    """
    times = {}
    for e in events:
        if not e.name.startswith(('skysense.', 'pretrain.')):
            continue
        branch, parent = None, e.cpu_parent
        while parent is not None:
            if parent.name in ('pretrain.student', 'pretrain.teacher'):
                branch = parent.name.split('.')[1]
                break
            parent = parent.cpu_parent
        key = (e.name, branch)
        times[key] = times.get(key, 0.0) + e.cpu_time_total / 1e6
    return times


def step_parts(phases, labels):
    """The parts (s) of one profiled step from its phases and range times."""

    def label(name, branch=Ellipsis):
        return sum(
            t for (n, b), t in labels.items()
            if n == name and (branch is Ellipsis or b == branch))

    parts = dict(data=phases['data'])
    for p in BACKBONE_PARTS:
        parts[p] = label(f'skysense.{p}')
    parts['sinkhorn'] = label('pretrain.sinkhorn')
    parts['mgcl'] = label('pretrain.mgcl') - parts['sinkhorn']
    for p in ('align', 'prototypes'):
        parts[p] = label(f'pretrain.{p}')
    parts['teacher_ema'] = phases['teacher_ema']
    parts['backward'] = phases['backward']
    parts['optimizer'] = phases['optimizer']
    parts['other'] = phases['step'] - sum(parts.values())
    branches = {
        b:
        dict(
            forward=label(f'pretrain.{b}'),
            **{p: label(f'skysense.{p}', b)
               for p in BACKBONE_PARTS})
        for b in BRANCHES
    }
    return dict(parts=parts, branches=branches, forward=phases['forward'])


def generic_step_parts(phases):
    """The parts (s) of one step of a model without labelled ranges."""
    parts = {p: phases[p] for p in GENERIC_PARTS if p != 'other'}
    parts['other'] = phases['step'] - sum(parts.values())
    return dict(parts=parts, forward=phases['forward'])


def profile_step(step, skysense=True):
    """Run ``step`` under the CPU profiler: its phases and parts."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        phases = step()
    if not skysense:
        return phases, generic_step_parts(phases)
    return phases, step_parts(phases, label_times(prof.events()))


# ---------------------------------------------------------------------- presets
def is_skysense(cfg):
    """Whether ``cfg`` pretrains SkySense (its labelled ranges split the forward)."""
    return 'SkySense' in str(cfg.model.get('type', ''))


def preset_overrides(cfg, preset):
    """The config overrides of ``preset`` for the model of ``cfg``."""
    if is_skysense(cfg):
        return PRESETS[preset]
    overrides = GENERIC_PRESETS[preset]
    arch = (cfg.model.get('backbone') or {}).get('arch')
    if overrides and not isinstance(arch, str):
        raise ValueError(f'benchmark_pretrain: preset {preset!r} sets '
                         'model.backbone.arch to a named arch, which the backbone '
                         f"of {cfg.model.get('type')} does not have; use --preset "
                         'small')
    return overrides


def load_config(config, preset, data_root, batch_size=None):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    overrides = preset_overrides(cfg, preset)
    if overrides:
        cfg.merge_from_dict(overrides)
    cfg.train_dataloader.dataset.data_root = data_root
    if batch_size:
        cfg.train_dataloader.batch_size = batch_size
    return cfg


def default_presets(config):
    """``small medium`` for SkySense configs, ``small`` for the others."""
    from mmengine.config import Config
    return ['small', 'medium'] if is_skysense(Config.fromfile(config)) else ['small']


@contextlib.contextmanager
def _quiet_init_log():
    """Keep ``init_weights``' per-parameter INFO lines out of the output."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def build(cfg, seed=0, device=None):
    """(model, optim_wrapper, train dataset) of ``cfg``, seeded, on ``device``."""
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    from eofm.registry import DATASETS, MODELS
    max_iters = cfg.get('train_cfg', {}).get('max_iters') or cfg.get('max_iters', 1)
    MessageHub.get_current_instance().update_info('max_iters', max_iters)  # EMA
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    with _quiet_init_log():
        model.init_weights()
    if device is not None:
        model = model.to(device)
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return model, optim_wrapper, dataset


def build_batches(cfg, dataset, batch_size, seed=0):
    """(batches, description): the config's batch sampler when it has one, else
    ``batch_size`` random samples per step."""
    loader = cfg.train_dataloader
    if not loader.get('batch_sampler'):
        return random_batches(len(dataset), batch_size, seed), 'random'
    from eofm.registry import DATA_SAMPLERS
    sampler_cfg = dict(loader.get('sampler') or dict(type='DefaultSampler'))
    sampler_cfg.setdefault('seed', seed)
    sampler = DATA_SAMPLERS.build(sampler_cfg, default_args=dict(dataset=dataset))
    batch_sampler = DATA_SAMPLERS.build(
        loader.batch_sampler, default_args=dict(sampler=sampler, batch_size=batch_size))
    return sampler_batches(batch_sampler), loader.batch_sampler['type']


def build_collate(cfg):
    """The train dataloader's collate function (``eofm.multimodal_collate`` when
    the config names none)."""
    from eofm.datasets import multimodal_collate
    from eofm.registry import FUNCTIONS
    collate_cfg = cfg.train_dataloader.get('collate_fn')
    if not collate_cfg:
        return multimodal_collate
    collate_cfg = dict(collate_cfg)
    fn = FUNCTIONS.get(collate_cfg.pop('type'))
    return functools.partial(fn, **collate_cfg) if collate_cfg else fn


def uses_teacher_ema(cfg, model):
    """Whether the runner would call ``model.update_teacher()`` after each step."""
    hooks = [h.get('type', '') for h in cfg.get('custom_hooks') or []]
    return hasattr(model, 'update_teacher') and any(
        str(t).split('.')[-1] == 'TeacherEMAHook' for t in hooks)


def build_step(preset, config, data_root, batch_size=None, device=None,
               precision='fp32'):
    """(config, :class:`PretrainStep`, batching) of one preset in ``precision``
    (the model built with the same seed whatever the precision)."""
    device = device or torch.device('cpu')
    cfg = load_config(config, preset, data_root, batch_size)
    batch_size = cfg.train_dataloader.batch_size
    model, optim_wrapper, dataset = build(cfg, device=device)
    if len(dataset) == 0:
        raise ValueError(f'benchmark_pretrain: the train split of {data_root} is '
                         'empty')
    batches, batching = build_batches(cfg, dataset, batch_size)
    step = PretrainStep(
        model,
        optim_wrapper,
        dataset,
        batch_size,
        batches=batches,
        collate=build_collate(cfg),
        teacher_ema=uses_teacher_ema(cfg, model)
        or (is_skysense(cfg) and hasattr(model, 'update_teacher')),
        device=device,
        precision=precision)
    return cfg, step, batching


def alternate_precisions(preset, config, data_root, batch_size, iters, warmup,
                         device=None, precisions=('fp32', 'bf16')):
    """Step times of one preset in each precision, the steps called in turn.

    One model per precision, built alike; after ``warmup`` untimed steps of each,
    ``iters`` rounds call one step of each precision in turn, so that a change of
    the machine's load hits all of them (the per-precision results of
    :func:`bench_preset` run one after another). Returns ``{precision: [seconds of
    each step]}``.
    """
    steps = {
        p: build_step(preset, config, data_root, batch_size, device, p)[1]
        for p in precisions
    }
    return alternate(steps, iters, warmup, device or torch.device('cpu'))


def bench_preset(preset, config, data_root, batch_size, iters, warmup, device=None,
                 precision='fp32'):
    """The measurements of one preset as a dict (see the module docstring);
    ``precision`` ('fp32' or 'bf16') is that of the forward and the losses."""
    from torch.utils.flop_counter import FlopCounterMode
    device = device or torch.device('cpu')
    cfg, step, batching = build_step(preset, config, data_root, batch_size, device,
                                     precision)
    model, optim_wrapper = step.model, step.optim_wrapper
    batch_size = cfg.train_dataloader.batch_size
    skysense = is_skysense(cfg)
    parts_names = PARTS if skysense else GENERIC_PARTS
    for _ in range(warmup):
        step()
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    timed = [step() for _ in range(iters)]
    samples = step.samples[warmup:warmup + iters]
    cuda_max = (
        torch.cuda.max_memory_allocated(device) if device.type == 'cuda' else None)
    profiled = [profile_step(step, skysense) for _ in range(iters)]
    counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_FLOPS)

    def counted_step():
        with counter:
            step()

    mem = peak_memory(counted_step, device)
    flops = counter.get_total_flops()

    step_t = statistics.median(t['step'] for t in timed)
    samples_per_step = statistics.mean(samples)
    prof_wall = sum(p['step'] for p, _ in profiled)
    part_sums = {p: sum(r['parts'][p] for _, r in profiled) for p in parts_names}
    n_params = sum(p.numel() for p in model.parameters())
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    backbone = cfg.model.get('backbone') or {}
    result = dict(
        preset=preset,
        precision=precision,
        overrides=preset_overrides(cfg, preset),
        model=cfg.model.get('type'),
        backbone_arch=backbone.get('arch'),
        batch_size=batch_size,
        batching=batching,
        samples_per_step=samples_per_step,
        params=n_params,
        params_trainable=n_trainable,
        step_time_s=step_t,
        step_times_s=[t['step'] for t in timed],
        samples_per_s=samples_per_step / step_t,
        phase_times_s={
            k: statistics.median(t[k] for t in timed)
            for k in ('data', 'forward', 'backward', 'optimizer', 'teacher_ema')
        },
        profiled_step_time_s=prof_wall / iters,
        profiler_overhead=prof_wall / iters / step_t,
        parts=list(parts_names),
        part_times_s={
            p: v / iters
            for p, v in part_sums.items()
        },
        shares={
            p: v / prof_wall
            for p, v in part_sums.items()
        },
        peak_memory_bytes=mem,
        peak_memory_method=CUDA_MEMORY_METHOD
        if device.type == 'cuda' else MEMORY_METHOD,
        peak_rss_bytes=peak_rss_bytes(),
        cuda_max_allocated_bytes=cuda_max,
        flops_per_step=flops,
        flops_per_s=flops / step_t,
    )
    forward = sum(r['forward'] for _, r in profiled)
    if not skysense:
        result.update(
            summary_times_s=dict(forward=forward / iters),
            summary_shares=dict(forward=forward / prof_wall))
        return result
    branch_sums = {
        b: {
            k: sum(r['branches'][b][k] for _, r in profiled)
            for k in ('forward', ) + BACKBONE_PARTS
        }
        for b in BRANCHES
    }
    # Groups of parts (not in the sum of the shares).
    summaries = dict(
        encoders=sum(part_sums[p] for p in ENCODERS),
        forward=forward,
        student_forward=branch_sums['student']['forward'],
        teacher_forward=branch_sums['teacher']['forward'])
    result.update(
        branch_times_s={
            b: {
                k: v / iters
                for k, v in d.items()
            }
            for b, d in branch_sums.items()
        },
        summary_times_s={
            k: v / iters
            for k, v in summaries.items()
        },
        summary_shares={
            k: v / prof_wall
            for k, v in summaries.items()
        })
    return result


# ---------------------------------------------------------------------- output
def _ms(s):
    return f'{1e3 * s:,.1f}'


def preset_table(r, peak):
    """Lines of the table of one preset result ``r``; ``peak``: the fp32 matmul
    peak (FLOP/s) or a dict of the peaks by precision."""
    if not isinstance(peak, dict):
        peak = dict(fp32=peak)
    shares = ', '.join(f'{100 * r["flops_per_s"] / v:.1f} % of the {k} matmul peak'
                       for k, v in peak.items())
    skysense = 'branch_times_s' in r
    batch = (f'batch {r["batch_size"]}' if r.get('batching', 'random') == 'random' else
             f'{r["samples_per_step"]:g} samples/step from {r["batching"]}')
    memory = f'peak memory {r["peak_memory_bytes"] / 2**20:,.1f} MiB'
    if r.get('peak_rss_bytes'):
        memory += f', process peak RSS {r["peak_rss_bytes"] / 2**20:,.1f} MiB'
    if r.get('cuda_max_allocated_bytes') is not None:
        memory += (f', CUDA max allocated '
                   f'{r["cuda_max_allocated_bytes"] / 2**20:,.1f} MiB')
    lines = [
        f'preset {r["preset"]}, {r.get("precision", "fp32")} '
        f'({r.get("model") or "model"}, backbone '
        f'{r["backbone_arch"]}, {batch}, {r["params_trainable"] / 1e6:,.2f} M '
        f'trainable of {r["params"] / 1e6:,.2f} M params)',
        f'step {_ms(r["step_time_s"])} ms (median), {r["samples_per_s"]:.2f} '
        f'samples/s, {memory}',
        f'{r["flops_per_step"] / 1e9:,.1f} GFLOP/step (matmul, fwd+bwd): '
        f'{r["flops_per_s"] / 1e9:,.1f} GFLOP/s = {shares}',
    ]
    rows = []
    for p in r.get('parts', PARTS):
        cells = [
            PART_NAMES[p],
            _ms(r['part_times_s'][p]), f'{100 * r["shares"][p]:.1f}'
        ]
        if skysense and p in BACKBONE_PARTS:
            cells += [_ms(r['branch_times_s'][b][p]) for b in BRANCHES]
        else:
            cells += ['', '']
        rows.append(cells)
    summary = [(SUMMARY_NAMES[k], r['summary_times_s'][k], r['summary_shares'][k])
               for k in SUMMARY_NAMES if k in r['summary_times_s']]
    summary.append((f'step, profiled (x{r["profiler_overhead"]:.2f})',
                    r['profiled_step_time_s'], 1.0))
    head = ['part', 'ms/step', 'share %', 'student ms', 'teacher ms']
    body = rows + [None] + [[n, _ms(t), f'{100 * s:.1f}', '', '']
                            for n, t, s in summary]
    widths = [max(len(c[i]) for c in [head] + [c for c in body if c]) for i in range(5)]

    def fmt(cells):
        return '  '.join([cells[0].ljust(widths[0])] +
                         [c.rjust(w) for c, w in zip(cells[1:], widths[1:])])

    lines += [fmt(head), '-' * (sum(widths) + 8)]
    lines += [fmt(c) if c else '-' * (sum(widths) + 8) for c in body]
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time one pretraining step of an eofm pretraining config '
        '(SkySense, msGFM, OmniSat, AnySat, ...) and split it into data, forward '
        '(SkySense: encoders, fusion, losses), backward, optimizer step; peak '
        'memory, samples/s and FLOP/s against the matmul peak.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Example: benchmark_pretrain.py --preset small medium --iters 3')
    parser.add_argument(
        '--config',
        default=None,
        help=f'pretraining config (default: {DEFAULT_CONFIG} of the repository)')
    parser.add_argument(
        '--preset',
        nargs='+',
        default=None,
        choices=list(PRESETS),
        help='small: the config as is; medium: backbone arch "small" (default: '
        'both for SkySense, small for the other models)')
    parser.add_argument(
        '--batch-size', type=int, help='samples per step (default: the config\'s)')
    parser.add_argument(
        '--iters',
        type=int,
        default=3,
        help='timed steps, and as many profiled ones (3)')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed steps before them (1)')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads (torch.set_num_threads; default: PyTorch\'s)')
    parser.add_argument(
        '--device',
        default='cpu',
        help='cpu (default) or cuda[:N]: where the model and the batches live')
    parser.add_argument(
        '--data-root',
        help='dataset root of the config\'s train split (default: generate eofm\'s '
        'sample dataset into a temporary folder)')
    parser.add_argument(
        '--num-tiles',
        type=int,
        default=16,
        help='tiles of the generated dataset without --data-root (16)')
    parser.add_argument(
        '--precision',
        nargs='+',
        default=['fp32'],
        choices=['fp32', 'bf16', 'auto'],
        help='precision of the forward and the losses (autocast, as '
        "AmpOptimWrapper); several run side by side; auto: bf16 where the CPU has "
        'bf16 matrix units (default: fp32)')
    parser.add_argument(
        '--alternate',
        type=int,
        default=0,
        help='with --precision fp32 bf16: also time this many steps of each '
        'precision called in turn (a fairer bf16 / fp32 ratio on a loaded machine; '
        'default 0: off)')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    args = parser.parse_args(argv)
    for name, low in (('batch_size', 1), ('iters', 1), ('warmup', 0), ('threads', 1),
                      ('num_tiles', 2), ('alternate', 0)):
        if getattr(args, name) is not None and getattr(args, name) < low:
            parser.error(f'--{name.replace("_", "-")} must be >= {low}')
    if args.config is None:
        args.config = osp.join(REPO_ROOT, DEFAULT_CONFIG)
    elif not osp.isfile(args.config):
        parser.error(f'--config: no such file: {args.config}')
    try:
        args.device = torch.device(args.device)
    except RuntimeError as e:
        parser.error(f'--device: {e}')
    if args.device.type == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: CUDA is not available')
    if args.device.type not in ('cpu', 'cuda'):
        parser.error(f'--device must be cpu or cuda, got {args.device}')
    if args.data_root is not None and not osp.isdir(args.data_root):
        parser.error(f'--data-root: no such folder: {args.data_root}')
    return args


def _precision_ratios(results):
    """{preset: bf16 step time / fp32 step time} of presets run in both."""
    times = {(r['preset'], r['precision']): r['step_time_s'] for r in results}
    return {p: times[(p, 'bf16')] / times[(p, 'fp32')]
            for p, prec in times if prec == 'fp32' and (p, 'bf16') in times}


def _check_ann_file(config, data_root):
    """A readable error when the config's annotation file is not in ``data_root``
    (e.g. the sample dataset was not written there)."""
    from mmengine.config import Config
    ann = Config.fromfile(config).train_dataloader.dataset.get('ann_file')
    if ann and not osp.isabs(ann) and not osp.isfile(osp.join(data_root, ann)):
        raise SystemExit(f'benchmark_pretrain: --data-root: no {ann} in {data_root} '
                         '(write the sample dataset with '
                         'tools/misc/make_sample_dataset.py)')


def main(argv=None):
    args = parse_args(argv)
    import eofm  # noqa: F401
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    device = args.device
    presets = args.preset or default_presets(args.config)
    if args.data_root is not None:
        _check_ann_file(args.config, args.data_root)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root
        if root is None:
            from eofm.datasets.sample_data import generate
            root = osp.join(tmp, 'sample')
            generate(root, num_tiles=args.num_tiles, size=32, hr_factor=8)
        precisions = list(dict.fromkeys(
            resolve_precision(p, device.type) for p in args.precision))
        if args.alternate and not {'fp32', 'bf16'} <= set(precisions):
            raise SystemExit('benchmark_pretrain: --alternate compares fp32 with bf16: '
                             f'give --precision fp32 bf16 (resolved here: '
                             f'{precisions})')
        peak = matmul_peak(device)
        peaks = dict(fp32=peak)
        if 'bf16' in precisions or device.type == 'cpu':
            peaks['bf16'] = matmul_peak(device, torch.bfloat16, n=1024, reps=3)
        results = [
            bench_preset(p, args.config, root, args.batch_size, args.iters, args.warmup,
                         device, precision) for p in presets for precision in precisions
        ]
        alternating = {}
        if args.alternate:
            for p in presets:
                times = alternate_precisions(p, args.config, root, args.batch_size,
                                             args.alternate, args.warmup, device)
                med = {k: statistics.median(v) for k, v in times.items()}
                alternating[p] = dict(
                    steps=args.alternate,
                    step_times_s=times,
                    median_step_time_s=med,
                    bf16_over_fp32=med['bf16'] / med['fp32'])
    config = osp.relpath(args.config, REPO_ROOT) if osp.abspath(
        args.config).startswith(REPO_ROOT + os.sep) else args.config
    report = dict(
        device=device.type,
        device_name=device_name(device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        cpu_count=os.cpu_count(),
        load_average_1min_before=load,
        config=config,
        data=args.data_root or f'generated sample dataset ({args.num_tiles} tiles)',
        iters=args.iters,
        warmup=args.warmup,
        matmul_peak_flops_per_s=peaks,
        matmul_peak_method='best of 5 timed 2048x2048 @ 2048x2048 torch.mm (fp32); '
        'best of 3 1024^3 (bf16)',
        precision_auto=resolve_precision('auto', device.type),
        bf16_over_fp32_step_time=_precision_ratios(results),
        alternating=alternating,
        memory_method=CUDA_MEMORY_METHOD if device.type == 'cuda' else MEMORY_METHOD,
        rss_method=RSS_METHOD,
        flops_method='FlopCounterMode over one step, matrix products only, '
        '1 multiply-add = 2 FLOPs',
        parts=results[0]['parts'],
        results=results)
    print(f'device: {device} ({report["device_name"]}), torch {torch.__version__}, '
          f'{config}, median of {args.iters} steps after {args.warmup} warm-up; '
          f'parts from {args.iters} profiled steps')
    if load is not None:
        print(f'CPU load average before the run: {load:.2f} on {os.cpu_count()} '
              'cores (other processes slow the timings down)')
    print('matmul peaks: ' + ', '.join(f'{k} {v / 1e9:,.1f} GFLOP/s'
                                         for k, v in peaks.items())
          + f' (auto: {report["precision_auto"]})')
    for r in results:
        print()
        print('\n'.join(preset_table(r, peaks)))
    for preset, ratio in report['bf16_over_fp32_step_time'].items():
        print(f'preset {preset}: bf16 step time = {ratio:.3f} x the fp32 step')
    for preset, alt in alternating.items():
        med = alt['median_step_time_s']
        print(f'preset {preset}, {alt["steps"]} steps of each precision in turn: '
              f'fp32 {_ms(med["fp32"])} ms, bf16 {_ms(med["bf16"])} ms, bf16 = '
              f'{alt["bf16_over_fp32"]:.3f} x the fp32 step')
    print(f'\npeak memory: {report["memory_method"]}; process RSS: {RSS_METHOD}')
    if args.out:
        write_json(report, args.out)
    return report


if __name__ == '__main__':
    main()

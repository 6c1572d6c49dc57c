"""Parameter and FLOP counts of eofm models, SkySense against the paper's Table J12.

What is counted and how:

* **Parameters**: ``numel`` of every parameter (shared ones once), per part: for a
  ``SkySense`` backbone the parts ``hr``, ``s2``, ``s1``, ``up_heads.s2``,
  ``up_heads.s1``, ``fusion`` (with its date table ``fusion.ctpe``, which the release
  stores in the Sentinel-2 file) and ``geo_context``; for a
  config's model its top-level modules (``backbone``, ``decode_head``...) and, when
  the backbone is a SkySense, the backbone's parts. Buffers are not parameters and
  are not counted.
* The model is **built on the meta device**: parameters get shapes but no memory,
  so the 2B-parameter model builds in well under a second. The few small index
  tensors that constructors compute values from (``torch.linspace(...).item()`` for
  drop-path rates, ``torch.arange`` for relative-position tables) are made on the
  CPU and moved to meta afterwards (:func:`eofm.models.common.empty_weights`).
* **FLOPs** (``--flops``): ``torch.utils.flop_counter.FlopCounterMode`` over one
  forward pass on meta tensors (nothing is computed, only shapes propagate). One
  multiply-add is 2 FLOPs; only matrix products are counted (linear, conv, batched
  matmul, attention); norms, softmax, activations and additions are not. On meta
  tensors PyTorch's attention takes its math path (counted as ``bmm``); the CPU
  flash-attention kernel, which FlopCounterMode does not know, is registered here
  too so real CPU tensors are counted the same. The model's input checks that need
  values (``mask.all()``, ``(doy > 366).any()``) are answered as for valid input
  with every date present (:func:`eofm.models.common.meta_checks`).

Examples::

    python tools/analysis_tools/count_params.py huge --flops
    python tools/analysis_tools/count_params.py tiny --flops \\
        --input-shape hr=3,128,128 s2=4,10,16,16 s1=4,2,16,16
    python tools/analysis_tools/count_params.py CONFIG.py --cfg-options \\
        model.backbone.arch=small

Defaults for an arch (``--arch`` or the first argument ``huge``/``small``/``tiny``)
are a bare ``eofm.SkySense`` with ``geo_context=True`` (the pretraining model the
paper counts) and, with ``--flops``, batch 1 of :data:`ARCH_INPUTS` (huge: the
release's HR 2048 px RGB, Sentinel-2 20 dates x 10 x 64 x 64, Sentinel-1 10 dates x
2 x 64 x 64). The up heads' ``scale`` follows from the input sizes (HR px / 32 per
Sentinel token), so the feature grids match.
"""
import argparse
import contextlib
import copy
import os.path as osp
import sys

import torch

from eofm.models.common import empty_weights, meta_checks
from eofm.utils.benchmark import CUSTOM_FLOPS

SKYSENSE_PARTS = ('hr', 's2', 's1', 'up_heads.s2', 'up_heads.s1', 'fusion',
                  'geo_context')
ARCHS = ('huge', 'small', 'tiny')
#: Per-sample input shapes per arch (hr: C, H, W; s2/s1: T, C, H, W).
ARCH_INPUTS = {
    'huge': dict(hr=(3, 2048, 2048), s2=(20, 10, 64, 64), s1=(10, 2, 64, 64)),
    'small': dict(hr=(3, 512, 512), s2=(8, 10, 32, 32), s1=(8, 2, 32, 32)),
    'tiny': dict(hr=(3, 256, 256), s2=(8, 10, 32, 32), s1=(8, 2, 32, 32)),
}
HR_STRIDE = 32  # Swin: patch 4, three 2x downsamplings
VIT_PATCH = 4
#: Paper Table J12, millions of parameters. 'fusion' includes the two up heads.
PAPER_J12 = {
    'hr': 654,
    's2': 302,
    's1': 302,
    'fusion+up_heads': 398,
    'geo_context': 215,
    'others': 189,
    'total': 2060,
}


# ---------------------------------------------------------------------- building
def _import_model_registry(scope):
    if scope in (None, 'eofm'):
        return
    try:
        utils = __import__(f'{scope}.utils', fromlist=['register_all_modules'])
    except ImportError as e:
        raise SystemExit(f'count_params: the config\'s default_scope {scope!r} is '
                         f'not an importable library ({e})')
    utils.register_all_modules(False)


def build_model(model_cfg, scope=None, meta=True):
    """Build ``model_cfg`` (a dict) with eofm's registry, on the meta device.

    ``scope``: the config's ``default_scope``; a host library's modules are
    registered and the build runs under that scope (types written ``eofm.X``).
    """
    import eofm  # noqa: F401 - registers eofm's modules
    from mmengine.registry import DefaultScope

    from eofm.registry import MODELS
    _import_model_registry(scope)
    ctx = empty_weights() if meta else contextlib.nullcontext()
    scope_ctx = DefaultScope.overwrite_default_scope(scope) if scope else \
        contextlib.nullcontext()
    with scope_ctx, ctx:
        model = MODELS.build(copy.deepcopy(model_cfg))
    return model.to('meta') if meta else model


def skysense_cfg(arch='huge', inputs=None, **overrides):
    """A bare ``eofm.SkySense`` config whose up-head scale fits ``inputs``.

    ``inputs``: per-sample shapes (``ARCH_INPUTS[arch]`` by default).
    """
    if arch not in ARCHS:
        raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
    cfg = dict(type='eofm.SkySense', arch=arch, geo_context=True)
    scale = up_head_scale(inputs or ARCH_INPUTS[arch])
    if scale is not None:
        cfg['up_head'] = dict(scale=scale)
    cfg.update(overrides)
    return cfg


def up_head_scale(inputs):
    """Up-head scale that puts Sentinel tokens on the HR last-stage grid, or None."""
    series = [inputs[m] for m in ('s2', 's1') if m in inputs]
    if 'hr' not in inputs or not series:
        return None
    hr_grid = inputs['hr'][-1] / HR_STRIDE
    scales = {hr_grid / (s[-1] / VIT_PATCH) for s in series}
    if len(scales) != 1 or not all(s >= 1 and float(s).is_integer() for s in scales):
        raise ValueError(
            f'input sizes do not give one integer up-head scale: HR {inputs["hr"][-1]} '
            f'px is a {hr_grid:g} px grid (stride {HR_STRIDE}), the Sentinel images '
            f'{[s[-1] for s in series]} px give grids '
            f'{[s[-1] / VIT_PATCH for s in series]} (patch {VIT_PATCH}); HR px / 32 '
            'must be an integer multiple of Sentinel px / 4')
    return int(scales.pop())


def find_skysense(model):
    """``(prefix, module)`` of the SkySense in ``model`` (itself or its backbone)."""
    from eofm.models.skysense.skysense import SkySense
    if isinstance(model, SkySense):
        return '', model
    backbone = getattr(model, 'backbone', None)
    if isinstance(backbone, SkySense):
        return 'backbone.', backbone
    return None, None


def make_inputs(skysense, shapes, batch_size=1, device='meta', dtype=torch.float32):
    """The batch dict SkySense takes for per-sample ``shapes`` of its modalities."""
    missing = [m for m in skysense.modalities if m not in shapes]
    if missing:
        raise ValueError(f'no input shape for {missing}; pass e.g. --input-shape '
                         'hr=3,2048,2048 s2=20,10,64,64 s1=10,2,64,64')
    b = batch_size
    g = torch.Generator().manual_seed(0)
    batch = {}
    for m in skysense.modalities:
        if str(device) == 'meta':
            batch[m] = torch.empty(b, *shapes[m], device='meta', dtype=dtype)
        else:
            batch[m] = torch.randn(b, *shapes[m], generator=g).to(device, dtype)
        if m != 'hr':
            t = shapes[m][0]
            doy = torch.randint(1, 366, (b, t), generator=g)
            batch[m + '_doy'] = doy.to(device)
            batch[m + '_date_mask'] = torch.ones(b, t, dtype=torch.bool, device=device)
    lonlat = torch.tensor([[116.4, 39.9]]).repeat(b, 1)
    batch['lonlat'] = lonlat.to(device)
    return batch


# ---------------------------------------------------------------------- counting
def _learned_buffers(module):
    """Buffers that are learned weights: the geo-context prototype banks (updated
    by EMA, not by gradient, so not parameters; Table J12 counts them)."""
    return [
        m.prototypes for m in module.modules()
        if hasattr(m, 'prototypes') and not isinstance(m.prototypes, torch.nn.Parameter)
    ]


def _numel(module):
    """Parameters plus learned buffers (see :func:`_learned_buffers`)."""
    return sum(p.numel()
               for p in module.parameters()) + sum(b.numel()
                                                   for b in _learned_buffers(module))


def _get(model, dotted):
    mod = model
    for name in dotted.split('.'):
        if isinstance(mod, torch.nn.ModuleDict) and name in mod:
            mod = mod[name]
        elif hasattr(mod, name):
            mod = getattr(mod, name)
        else:
            return None
    return mod


def model_parts(model):
    """Dotted names of the parts to report for ``model`` (see the module docstring)."""
    prefix, sky = find_skysense(model)
    parts = []
    if prefix != '':
        parts = [name for name, _ in model.named_children()]
    if sky is not None:
        parts += [prefix + p for p in SKYSENSE_PARTS if _get(sky, p) is not None]
    return parts


def _top_level(parts):
    """The parts that are not inside another part."""
    return [p for p in parts if not any(p.startswith(q + '.') for q in parts if q != p)]


def count_parameters(model, parts=None):
    """``{part: params, ..., 'other': rest, 'total': all, 'trainable': ...}``.

    ``parts``: dotted module names (default :func:`model_parts`). A SkySense part
    ``fusion`` is followed by ``fusion.ctpe`` (its date table, included in ``fusion``).
    ``other`` is what no top-level part holds.
    """
    parts = model_parts(model) if parts is None else list(parts)
    counts = {}
    for name in parts:
        mod = _get(model, name)
        if mod is None:
            raise KeyError(f'count_parameters: the model has no part {name!r}')
        counts[name] = _numel(mod)
        ctpe = getattr(mod, 'ctpe', None)
        if isinstance(ctpe, torch.nn.Parameter):
            counts[name + '.ctpe'] = ctpe.numel()
    total = _numel(model)
    top_params = {
        id(p)
        for name in _top_level(parts)
        for p in _get(model, name).parameters()
    }
    top_params |= {
        id(b)
        for name in _top_level(parts)
        for b in _learned_buffers(_get(model, name))
    }
    counts['other'] = sum(p.numel()
                          for p in list(model.parameters()) + _learned_buffers(model)
                          if id(p) not in top_params)
    counts['total'] = total
    counts['trainable'] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return counts


def _outputs_sum(out):
    if isinstance(out, torch.Tensor):
        return out.float().sum()
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        terms = [_outputs_sum(o) for o in out]
        terms = [t for t in terms if t is not None]
        return sum(terms) if terms else None
    return None


def count_flops(model, inputs, parts=None, backward=False, call=None):
    """FLOPs of ``model(inputs)`` (and its backward) with ``FlopCounterMode``.

    Returns ``{'total': n, part: n, ..., 'other': n}`` for ``parts`` (dotted names
    relative to ``model``; default :func:`model_parts`); ``other`` is what ran
    outside the top-level parts (or in a part called without ``__call__``).
    ``backward=True`` also runs ``sum(outputs).backward()`` inside the counter
    (forward + backward FLOPs).
    ``call(model, inputs)`` replaces ``model(inputs)``. Works on meta and real
    tensors; in no-grad mode unless ``backward``.
    """
    from torch.utils.flop_counter import FlopCounterMode
    parts = model_parts(model) if parts is None else list(parts)
    call = call or (lambda m, x: m(x))
    counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_FLOPS)
    grad = torch.enable_grad() if backward else torch.no_grad()
    with grad, meta_checks(), counter:
        out = call(model, inputs)
        if backward:
            loss = _outputs_sum(out)
            if loss is None or not loss.requires_grad:
                raise ValueError('count_flops: the outputs need gradients for '
                                 'backward=True (are all parameters frozen?)')
            loss.backward()
    if backward:
        model.zero_grad(set_to_none=True)
    flops = counter.get_flop_counts()
    root = type(model).__name__
    result = {'total': counter.get_total_flops()}
    for name in parts:
        result[name] = sum(flops.get(f'{root}.{name}', {}).values())
    result['other'] = result['total'] - sum(result[p] for p in _top_level(parts))
    return result


# ---------------------------------------------------------------------- printing
def _m(n):
    return f'{n / 1e6:,.2f}'


def params_table(counts, paper=True):
    """Lines of the parameter table (with Table J12 for a SkySense)."""
    prefix = next((p[:-2] for p in counts if p == 'hr' or p.endswith('.hr')), None)
    sky = prefix is not None
    lines = [
        f'{"part":<24}{"params (M)":>12}{"exact":>17}' +
        (f'{"paper J12 (M)":>15}{"diff (M)":>11}' if sky and paper else '')
    ]
    lines.append('-' * len(lines[0]))

    def row(name, n, ref=None):
        s = f'{name:<24}{_m(n):>12}{n:>17,}'
        if ref is not None:
            s += f'{ref:>15,}{(n - ref * 1e6) / 1e6:>+11.2f}'
        return s

    for name, n in counts.items():
        if name in ('total', 'trainable', 'other'):
            continue
        key = name[len(prefix):] if sky and name.startswith(prefix) else None
        ref = PAPER_J12.get(key) if sky and paper and key in ('hr', 's2', 's1',
                                                              'geo_context') else None
        lines.append(row(('  ' if name.endswith('.ctpe') else '') + name, n, ref))
        if sky and paper and key == 'fusion':
            up = sum(v for k, v in counts.items() if k.startswith(prefix + 'up_heads.'))
            lines.append(
                row(f'{prefix}fusion+up_heads', n + up, PAPER_J12['fusion+up_heads']))
    lines.append(
        row('other (no part)', counts['other'],
            PAPER_J12['others'] if sky and paper else None))
    lines.append(
        row('total', counts['total'], PAPER_J12['total'] if sky and paper else None))
    if counts['trainable'] != counts['total']:
        lines.append(row('trainable', counts['trainable']))
    return lines


def flops_table(fwd):
    """Lines of the FLOP table (GFLOPs, exact, share of the total)."""
    total = fwd['total']
    lines = [f'{"part":<24}{"GFLOPs":>14}{"exact":>22}{"% of total":>12}']
    lines.append('-' * len(lines[0]))
    rows = [(k, v) for k, v in fwd.items() if k not in ('total', 'other')]
    for name, n in rows + [('other (no part)', fwd.get('other', 0)), ('total', total)]:
        share = 100 * n / max(total, 1)
        lines.append(f'{name:<24}{n / 1e9:>14,.3f}{n:>22,}{share:>11.1f}%')
    return lines


# ---------------------------------------------------------------------- CLI
def parse_input_shapes(items):
    """``['hr=3,2048,2048', 's2=20,10,64,64']`` -> ``{'hr': (3, 2048, 2048), ...}``.

    An item without ``name=`` is the shape of a plain tensor input (``inputs``).
    """
    shapes = {}
    for item in items or []:
        name, _, dims = item.rpartition('=')
        name = name or 'inputs'
        try:
            shape = tuple(int(d) for d in dims.split(','))
        except ValueError:
            shape = ()
        if not shape or any(d <= 0 for d in shape):
            raise ValueError(f'--input-shape: {item!r} is not NAME=D1,D2,... with '
                             'positive integers (e.g. hr=3,2048,2048 or 3,224,224)')
        expected = {'hr': 3, 's2': 4, 's1': 4}.get(name)
        if expected and len(shape) != expected:
            raise ValueError(
                f'--input-shape: {name} takes {expected} dims per sample '
                f'({"C,H,W" if expected == 3 else "T,C,H,W"}), got {item!r}')
        shapes[name] = shape
    return shapes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count the parameters (and forward FLOPs) of an eofm model '
        'built on the meta device; a SkySense is compared with the paper\'s Table '
        'J12.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Example: count_params.py huge --flops')
    parser.add_argument(
        'config',
        nargs='?',
        help=f'a config file (its `model` is counted) or an arch {ARCHS} for a bare '
        'eofm.SkySense (same as --arch)')
    parser.add_argument(
        '--arch', choices=ARCHS, help='count a bare eofm.SkySense of this arch')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='override settings: of the config (model.backbone.arch=small) or, with '
        'an arch, of the SkySense arguments (geo_context=False, up_head.scale=2)')
    parser.add_argument(
        '--flops', action='store_true', help='also count forward FLOPs per part')
    parser.add_argument(
        '--input-shape',
        nargs='+',
        metavar='NAME=SHAPE',
        help='per-sample input shapes for --flops: hr=C,H,W s2=T,C,H,W s1=T,C,H,W '
        '(SkySense; missing ones from the arch defaults) or C,H,W for a plain '
        'tensor input')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='batch size for --flops')
    parser.add_argument(
        '--no-paper', action='store_true', help='omit the Table J12 columns')
    args = parser.parse_args(argv)
    if args.config is None and args.arch is None:
        parser.error('give a config file or an arch (huge, small, tiny)')
    if args.config is not None and args.arch is not None:
        parser.error('give either a config file or --arch, not both')
    if args.config in ARCHS:
        args.arch, args.config = args.config, None
    if args.config is not None and not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config} (or give an arch: '
                     f'{", ".join(ARCHS)})')
    if args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    try:
        args.shapes = parse_input_shapes(args.input_shape)
    except ValueError as e:
        parser.error(str(e))
    return args


def _cfg_options(items):
    from mmengine.config import DictAction
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest='opts')(None, ns, items)
    return ns.opts


def load_model_cfg(args):
    """``(model_cfg, scope, description, shapes)`` for the parsed arguments."""
    from mmengine.config import Config
    options = _cfg_options(args.cfg_options) if args.cfg_options else {}
    if args.arch:
        shapes = dict(ARCH_INPUTS[args.arch], **args.shapes)
        cfg = Config(dict(model=skysense_cfg(args.arch, shapes)))
        cfg.merge_from_dict({f'model.{k}': v for k, v in options.items()})
        return cfg.model.to_dict(), None, f'eofm.SkySense arch={args.arch}', shapes
    cfg = Config.fromfile(args.config)
    if options:
        cfg.merge_from_dict(options)
    if 'model' not in cfg:
        raise SystemExit(f'count_params: {args.config} defines no `model`')
    model_cfg = cfg.model.to_dict()
    backbone = model_cfg.get('backbone', model_cfg)
    arch = backbone.get('arch', 'huge') if isinstance(backbone, dict) else 'huge'
    shapes = dict(ARCH_INPUTS.get(arch, ARCH_INPUTS['huge']), **args.shapes)
    return model_cfg, cfg.get('default_scope'), args.config, shapes


def _flops_call(model):
    """How to run a whole model: backbone dicts go through ``mode='tensor'``."""
    from mmengine.model import BaseModel
    if isinstance(model, BaseModel):
        return lambda m, x: m(x, mode='tensor')
    return None


def main(argv=None):
    args = parse_args(argv)
    model_cfg, scope, desc, shapes = load_model_cfg(args)
    model = build_model(model_cfg, scope)
    counts = count_parameters(model)
    prefix, sky = find_skysense(model)
    extra = ''
    if sky is not None:
        extra = (f' (modalities={",".join(sky.modalities)}, '
                 f'geo_context={hasattr(sky, "geo_context")})')
    print(f'{desc}{extra}: parameters, built on the meta device')
    paper = not args.no_paper and sky is not None and sky.arch == 'huge'
    print('\n'.join(params_table(counts, paper=paper)))
    if paper:
        print('paper Table J12 counts the two up heads with the fusion (398M) and '
              '"others" (189M) that this backbone does not hold')
    if not args.flops:
        return counts, None
    model.eval()
    if sky is not None:
        inputs = make_inputs(sky, shapes, args.batch_size)
        shown = ', '.join(f'{m} {args.batch_size}x' + 'x'.join(map(str, shapes[m]))
                          for m in sky.modalities)
    else:
        if 'inputs' not in args.shapes:
            raise SystemExit('count_params: --flops on a model without a SkySense '
                             'backbone needs --input-shape C,H,W')
        inputs = torch.empty(args.batch_size, *args.shapes['inputs'], device='meta')
        shown = 'x'.join(map(str, inputs.shape))
    call = _flops_call(model) if prefix == 'backbone.' or sky is None else None
    try:
        fwd = count_flops(model, inputs, call=call)
    except Exception as e:  # a head that needs data samples: count the backbone
        if prefix != 'backbone.':
            raise
        print(f'(the whole model could not run on meta tensors: {e}; counting the '
              'backbone only)')
        fwd = count_flops(
            sky, inputs, parts=[p[len(prefix):] for p in model_parts(sky)])
    print(f'\nforward FLOPs (FlopCounterMode on meta tensors, matrix products only, '
          f'1 multiply-add = 2 FLOPs), input: {shown}')
    print('\n'.join(flops_table(fwd)))
    return counts, fwd


if __name__ == '__main__':
    try:
        main()
    except (ValueError, KeyError) as e:
        sys.exit(f'count_params: {e}')

"""What ``tools/train.py`` and ``tools/test.py`` do to a config before the runner.

The logic of the host libraries' own tools (mmdet, mmseg, mmrotate, mmpretrain),
written once for configs of any scope, plus eofm's CPU distributed path.
"""
import os
import os.path as osp
import warnings

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from eofm.utils.checkpoint import remove_stale_temp_files
from eofm.utils.dist import cpu_distributed_needed, setup_cpu_distributed

__all__ = [
    'load_config', 'merge_train_args', 'merge_test_args', 'enable_visualization',
    'build_runner', 'add_common_args', 'set_local_rank', 'ensure_exact_resume_hook',
    'remove_stale_checkpoint_writes'
]


def load_config(path, cfg_options=None):
    """Read a config file with a clear error for a wrong path; ``cfg_options`` are
    merged, and a top-level ``data_root`` reaches every dataset config in it
    (:func:`eofm.datasets.override_data_root`)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        if cfg_options.get('data_root') is not None:
            # the datasets took data_root from the base config when it was parsed
            from eofm.datasets import override_data_root
            n = override_data_root(cfg, cfg_options['data_root'])
            print_log(f'data_root={cfg_options["data_root"]} set on {n} dataset '
                      'config(s)', logger='current')
    return cfg


def _default_work_dir(cfg, config_path):
    if cfg.get('work_dir', None) is None:
        return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
    return cfg.work_dir


def _prepare_launcher(cfg, launcher):
    cfg.launcher = launcher
    if cpu_distributed_needed(launcher):
        setup_cpu_distributed(cfg, launcher)


def _amp_runs_here(what):
    """Whether ``--amp`` takes effect: on a GPU, or on a CPU with bf16 matrix units;
    elsewhere (bf16 emulated, many times slower than fp32) warn that ``what`` (e.g.
    'training') runs in fp32."""
    from eofm.utils.precision import resolve_precision
    if torch.cuda.is_available() or resolve_precision('auto', 'cpu') == 'bf16':
        return True
    warnings.warn('--amp ignored: this CPU has no bf16 matrix units (bf16 would be '
                  f'emulated, many times slower than fp32); {what} runs in fp32')
    return False


def _enable_amp(cfg):
    """``--amp``: mmengine's ``AmpOptimWrapper`` on a GPU; bf16 autocast
    (:class:`eofm.engine.CPUAmpOptimWrapper`) on a CPU with bf16 matrix units; fp32
    with a warning on a CPU without them, where bf16 is emulated and slower."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in ('AmpOptimWrapper', 'mmengine.AmpOptimWrapper',
                   'CPUAmpOptimWrapper', 'eofm.CPUAmpOptimWrapper'):
        warnings.warn(f'--amp: mixed precision is already on in the config ({wrapper})')
        return
    if wrapper not in ('OptimWrapper', 'mmengine.OptimWrapper'):
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, the '
                         f'config has {wrapper!r}')
    if not _amp_runs_here('training'):
        return
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'eofm.CPUAmpOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')


def merge_train_args(cfg, args):
    """Apply ``tools/train.py``'s flags to ``cfg`` (in place) and return it."""
    _prepare_launcher(cfg, args.launcher)
    cfg.work_dir = args.work_dir if args.work_dir else _default_work_dir(
        cfg, args.config)

    if args.amp:
        _enable_amp(cfg)

    if getattr(args, 'auto_scale_lr', False):
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict('
                           'base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume {args.resume}: no such checkpoint')
        cfg.resume = True
        cfg.load_from = args.resume

    if getattr(args, 'no_validate', False):
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    return cfg


def enable_visualization(cfg, show=False, show_dir=None, wait_time=2):
    """Switch on the visualization hook of ``cfg`` for ``--show``/``--show-dir``.

    Handles the hooks of every host library: mmdet / mmrotate ``DetVisualizationHook``
    (``test_out_dir``), mmseg ``SegVisualizationHook`` (visualizer ``save_dir``) and
    mmpretrain ``VisualizationHook`` (``enable``/``out_dir``).
    """
    hooks = cfg.get('default_hooks', {})
    if 'visualization' not in hooks:
        raise KeyError('--show/--show-dir need `default_hooks.visualization` in the '
                       'config (for example dict(type=\'DetVisualizationHook\'))')
    hook = hooks['visualization']
    hook_type = str(hook.get('type', '')).split('.')[-1]
    if hook_type == 'VisualizationHook':  # mmpretrain
        hook['enable'] = True
        if show:
            hook['show'] = True
            hook['wait_time'] = wait_time
        if show_dir:
            hook['out_dir'] = show_dir
        return cfg
    hook['draw'] = True
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    if show_dir:
        if hook_type == 'SegVisualizationHook':
            # mmseg saves through the visualizer; a relative folder goes under the
            # work_dir as mmdet's test_out_dir does (not the current directory)
            if not osp.isabs(show_dir) and cfg.get('work_dir'):
                show_dir = osp.join(cfg.work_dir, show_dir)
            cfg.visualizer['save_dir'] = show_dir
        else:  # DetVisualizationHook of mmdet and mmrotate, and eofm's hooks
            hook['test_out_dir'] = show_dir
    return cfg


def merge_test_args(cfg, args):
    """Apply ``tools/test.py``'s flags to ``cfg`` (in place) and return it."""
    _prepare_launcher(cfg, args.launcher)
    cfg.work_dir = args.work_dir if args.work_dir else _default_work_dir(
        cfg, args.config)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        dump = dict(type='DumpResults', out_file_path=args.out)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump]
        elif isinstance(evaluator, dict) and 'metrics' in evaluator:
            metrics = evaluator['metrics']
            metrics = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
            evaluator['metrics'] = metrics + [dump]
        else:
            cfg.test_evaluator = [evaluator, dump]
    if getattr(args, 'amp', False) and _amp_runs_here('testing'):
        # mmengine's test loop autocasts with ``fp16=True``: fp16 on a GPU, bf16 (the
        # CPU autocast's type) on a CPU
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    if getattr(args, 'tta', False):
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise KeyError('--tta needs `tta_model` and `tta_pipeline` in the config')
        cfg.model = dict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    return cfg


#: The hook that makes ``--resume`` exact; every runner gets it (:func:`build_runner`).
EXACT_RESUME_HOOK = 'eofm.ExactResumeHook'


def ensure_exact_resume_hook(cfg):
    """Add :class:`eofm.ExactResumeHook` to ``cfg.custom_hooks`` when it is not there.

    The default runtimes list it, but a config that sets ``custom_hooks`` to a list of
    its own replaces theirs (MMEngine merges lists by replacing them), and exact
    resume would be lost without a word. It is added back here, with a log line, so
    configs need not repeat it. Returns ``cfg`` (changed in place).
    """
    hooks = list(cfg.get('custom_hooks') or [])
    names = {str(h.get('type', '')).split('.')[-1] for h in hooks if hasattr(h, 'get')}
    if 'ExactResumeHook' not in names:
        hooks.insert(0, dict(type=EXACT_RESUME_HOOK))
        cfg.custom_hooks = hooks
        print_log(
            f'{EXACT_RESUME_HOOK} added to custom_hooks (the config\'s list did not '
            'hold it): --resume restores the RNG state', logger='current')
    return cfg


def remove_stale_checkpoint_writes(runner):
    """Remove what killed checkpoint writes left in the runner's checkpoint folders.

    eofm writes checkpoints and ``last_checkpoint`` through hidden temporary files
    (``.iter_8.pth.<random>.eofm-tmp``) renamed when complete; a process killed
    during the write leaves its temporary file behind, as large as a checkpoint.
    Rank 0 removes files of exactly that pattern from the work dir (and the
    ``CheckpointHook``'s ``out_dir``) before the run writes anything.
    """
    if runner.rank != 0:
        return []
    dirs = [runner.work_dir]
    out_dir = (runner.cfg.get('default_hooks') or {}).get('checkpoint', {}) or {}
    out_dir = out_dir.get('out_dir') if hasattr(out_dir, 'get') else None
    if out_dir and '://' not in str(out_dir):
        dirs.append(osp.join(out_dir, osp.basename(osp.normpath(runner.work_dir))))
    removed = [p for d in dirs for p in remove_stale_temp_files(d)]
    if removed:
        print_log(
            f'removed {len(removed)} temporary file(s) of interrupted checkpoint '
            f'writes: {[osp.basename(p) for p in removed]}', logger='current')
    return removed


def build_runner(cfg):
    """Build the runner the config asks for (``runner_type``) or MMEngine's Runner,
    with :class:`eofm.ExactResumeHook` (:func:`ensure_exact_resume_hook`), after
    removing the leftovers of killed checkpoint writes
    (:func:`remove_stale_checkpoint_writes`), recording the training data's bands,
    GSD and normalisation in every checkpoint (:class:`eofm.DataContractHook`) and
    normalising with the statistics of the checkpoint the model starts from
    (:func:`eofm.apis.apply_checkpoint_normalization`)."""
    from eofm.engine.hooks import DataContractHook, data_contract
    from .checkpoint_normalization import apply_checkpoint_normalization
    ensure_exact_resume_hook(cfg)
    apply_checkpoint_normalization(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    remove_stale_checkpoint_writes(runner)
    runner.register_hook(DataContractHook(data_contract(cfg)))
    return runner


def add_common_args(parser):
    """Add the flags ``tools/train.py`` and ``tools/test.py`` share to ``parser``:
    ``--cfg-options``, ``--launcher`` and ``--local_rank``/``--local-rank``."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs; '
        'e.g. train_cfg.max_iters=10 "model.backbone.channels=[8,16]"')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def set_local_rank(args):
    """Export ``--local-rank`` (old launchers) as ``LOCAL_RANK``."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)

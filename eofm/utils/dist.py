"""Distributed training on CPU processes (gloo), next to MMEngine's stock GPU path.

MMEngine 0.10's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and its runner
wraps the model in ``MMDistributedDataParallel(device_ids=[LOCAL_RANK])``: both fail on a
machine without GPUs. :func:`setup_cpu_distributed` (called by ``tools/train.py`` and
``tools/test.py`` only when no GPU is visible) initialises the gloo process group from
the ``torchrun`` environment and swaps the wrapper for
:class:`eofm.engine.CPUDistributedDataParallel`. With GPUs nothing here runs and the
stock NCCL path is untouched.
"""
import os

import torch
import torch.distributed as torch_dist

__all__ = ['cpu_distributed_needed', 'setup_cpu_distributed', 'finish_cpu_distributed']

_REQUIRED_ENV = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def cpu_distributed_needed(launcher):
    """True when ``launcher`` asks for distributed work and no CUDA GPU is visible."""
    return launcher != 'none' and not torch.cuda.is_available()


def setup_cpu_distributed(cfg, launcher):
    """Prepare ``cfg`` and the process group for CPU-only distributed training.

    Args:
        cfg (mmengine.Config): The run's config; modified in place.
        launcher (str): ``'pytorch'`` (torchrun) or ``'slurm'``.

    Returns:
        mmengine.Config: ``cfg`` with gloo as backend and the CPU DDP wrapper.
    """
    if launcher == 'slurm':
        _slurm_env_to_torchrun_env()
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} is not supported on CPU: use '
                         "'pytorch' (tools/dist_train.sh) or 'slurm'")
    missing = [k for k in _REQUIRED_ENV if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher {launcher} needs the environment variables {missing}; '
            'start the script with tools/dist_train.sh (torchrun) or srun')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if wrapper.get(
            'type',
            'MMDistributedDataParallel') in ('MMDistributedDataParallel',
                                             'mmengine.MMDistributedDataParallel',
                                             'eofm.SourceBlockDistributedDataParallel'):
        wrapper = dict(wrapper, type='eofm.CPUDistributedDataParallel')
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters',
                           cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper
    return cfg


def _slurm_env_to_torchrun_env():
    """Fill torchrun's variables from SLURM's (as mmengine's slurm launcher does)."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        import subprocess
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')


def finish_cpu_distributed():
    """Tear a CPU (gloo) process group down at the end of a tool.

    A gloo group still alive when the interpreter exits can abort a rank after its
    work is done ("terminate called without an active exception", exit code -6),
    which fails the launcher although training finished. NCCL groups are left as
    MMEngine leaves them (the GPU path stays stock).
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized() and dist.get_backend() == 'gloo':
        dist.barrier()
        dist.destroy_process_group()

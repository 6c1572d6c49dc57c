"""DistributedDataParallel for models on CPU processes (gloo)."""
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm

from eofm.registry import MODEL_WRAPPERS
from .source_block_ddp import SourceBlockDistributedDataParallel


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(SourceBlockDistributedDataParallel):
    """:class:`mmengine.model.MMDistributedDataParallel` that accepts CPU modules.

    MMEngine's runner always passes ``device_ids=[LOCAL_RANK]``; torch's DDP requires
    ``device_ids=None`` for modules on the CPU. This wrapper drops ``device_ids`` and
    ``output_device`` when the module has no CUDA parameters and is otherwise the stock
    wrapper (same ``train_step``/``val_step``/``test_step``; per-source steps as
    :class:`eofm.SourceBlockDistributedDataParallel`).

    torch's ``SyncBatchNorm`` runs on accelerators only, and the task configs of the
    host libraries use it (``norm_cfg=dict(type='SyncBN')``): on the CPU its layers
    are turned back into ``BatchNorm`` (per-process statistics, as with one process)
    and a warning says so.
    """

    def __init__(self, module, device_ids=None, output_device=None, **kwargs):
        on_cuda = any(p.is_cuda for p in module.parameters())
        if not on_cuda:
            device_ids = None
            output_device = None
            if any(isinstance(m, nn.SyncBatchNorm) for m in module.modules()):
                print_log(
                    'SyncBatchNorm needs an accelerator: on CPU processes its '
                    'layers run as BatchNorm with per-process statistics',
                    logger='current',
                    level=30)
                module = revert_sync_batchnorm(module)
        super().__init__(
            module=module, device_ids=device_ids, output_device=output_device, **kwargs)

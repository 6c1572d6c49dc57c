"""DistributedDataParallel for models on CPU processes (gloo)."""
from mmengine.model import MMDistributedDataParallel

from eofm.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """:class:`mmengine.model.MMDistributedDataParallel` that accepts CPU modules.

    MMEngine's runner always passes ``device_ids=[LOCAL_RANK]``; torch's DDP requires
    ``device_ids=None`` for modules on the CPU. This wrapper drops ``device_ids`` and
    ``output_device`` when the module has no CUDA parameters and is otherwise the stock
    wrapper (same ``train_step``/``val_step``/``test_step``).
    """

    def __init__(self, module, device_ids=None, output_device=None, **kwargs):
        on_cuda = any(p.is_cuda for p in module.parameters())
        if not on_cuda:
            device_ids = None
            output_device = None
        super().__init__(
            module=module,
            device_ids=device_ids,
            output_device=output_device,
            **kwargs)

"""DistributedDataParallel for models that train on per-source blocks of a batch."""
from mmengine.model import MMDistributedDataParallel

from eofm.registry import MODEL_WRAPPERS

__all__ = ['SourceBlockDistributedDataParallel']


@MODEL_WRAPPERS.register_module()
class SourceBlockDistributedDataParallel(MMDistributedDataParallel):
    """:class:`mmengine.model.MMDistributedDataParallel` that keeps a model's
    per-source training step.

    Models pretrained on several datasets at once (msGFM's per-source learning
    rates, AnySat on GeoPlex; batches of :class:`eofm.HeterogeneousBatchSampler`)
    split each batch into one block per source and preprocess, forward and
    back-propagate every block on its own. MMEngine's wrapper never calls the
    module's ``train_step``: it would preprocess the whole batch at once and lose
    that. This wrapper calls the module's ``source_train_step(data, optim_wrapper,
    run_forward)`` when the module defines one and uses source blocks
    (``module.source_batch_sizes``), with ``run_forward`` its own ``_run_forward``,
    so that every forward goes through DDP (gradients synchronised across ranks);
    otherwise it is the stock wrapper. Set it with
    ``model_wrapper_cfg = dict(type='eofm.SourceBlockDistributedDataParallel',
    find_unused_parameters=True)`` (sources differ in modalities); on CPU processes
    :class:`eofm.CPUDistributedDataParallel` (a subclass) takes its place.
    """

    def train_step(self, data, optim_wrapper):
        step = getattr(self.module, 'source_train_step', None)
        if step is None or getattr(self.module, 'source_batch_sizes', None) is None:
            return super().train_step(data, optim_wrapper)
        return step(data, optim_wrapper, self._run_forward)

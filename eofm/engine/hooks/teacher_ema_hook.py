"""Update an EMA teacher after every training iteration."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from eofm.registry import HOOKS

__all__ = ['TeacherEMAHook']


@HOOKS.register_module()
class TeacherEMAHook(Hook):
    """Call ``model.update_teacher()`` after each training iteration.

    Self-supervised algorithms with an EMA teacher (``eofm.SkySensePretrainer``)
    update it here rather than inside ``loss``: between iterations every parameter is
    registered (FSDP replaces them by views during the forward pass), and the update
    follows the optimizer step of the iteration.
    """

    priority = 'NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.update_teacher()

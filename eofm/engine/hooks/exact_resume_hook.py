"""Make ``--resume`` reproduce an uninterrupted run, random draws included."""
import torch
from mmengine.hooks import Hook

from eofm.registry import HOOKS


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Save torch's RNG state in checkpoints and restore it on resume.

    MMEngine restores weights, optimizer, schedulers, the iteration counter and the
    seed, and replays the data loader to the resumed iteration, so data order and the
    numpy / ``random`` draws of the pipeline repeat exactly. What it does not restore is
    torch's global generator used by dropout, drop-path and random masking in the model.
    This hook stores that state (CPU and every CUDA device) when a checkpoint is saved
    and puts it back at ``before_train_epoch`` of the resumed run, which is where the
    uninterrupted run stood: for an epoch-based loop the new epoch's data-loader
    iterator is created afterwards, as it was; the iteration-based loop's replay of the
    loader then draws nothing from torch's generator unless a transform running in the
    main process (``num_workers=0``) uses torch randomness. Validation is made neutral
    to the generator, so saving a checkpoint before or after it makes no difference.
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self._pending = None
        self._before_val = None

    @staticmethod
    def _get_state():
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        return state

    @staticmethod
    def _set_state(state):
        torch.set_rng_state(state['cpu'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['torch_rng_state'] = self._get_state()

    def after_load_checkpoint(self, runner, checkpoint):
        self._pending = checkpoint.get('torch_rng_state')

    def before_train_epoch(self, runner):
        if self._pending is not None:
            self._set_state(self._pending)
            self._pending = None

    def before_val(self, runner):
        self._before_val = self._get_state()

    def after_val(self, runner):
        if self._before_val is not None:
            self._set_state(self._before_val)
            self._before_val = None

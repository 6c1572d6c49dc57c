"""Make ``--resume`` reproduce an uninterrupted run, random draws included."""
import functools
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop, IterBasedTrainLoop

from eofm.registry import HOOKS


class _RestoreBeforeFetch:
    """The train loop's data iterator that calls ``restore`` once, just before the
    batch after the first ``skip`` ones (the resumed loop's replay)."""

    def __init__(self, iterator, skip, restore):
        self._iterator, self._skip, self._restore = iterator, skip, restore

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip:
            self._skip -= 1
        elif self._restore is not None:
            restore, self._restore = self._restore, None
            restore()
        return next(self._iterator)

    def __getattr__(self, name):
        return getattr(self._iterator, name)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Save every process's random state in checkpoints and restore it on resume.

    MMEngine restores weights, optimizer, schedulers, the iteration counter and the
    seed, and replays the data loader to the resumed iteration. What it does not
    restore is where the random generators stood: torch's (dropout, drop-path,
    random masking), numpy's and Python's (pipelines running in the main process,
    pair sampling), on *every* rank; with ``randomness.diff_rank_seed=True`` each
    rank has its own. The data sampler's seed and the seed of the data-loader
    workers are not restored either (they differ between runs when
    ``randomness.seed`` is None).

    This hook gathers, from every rank, when a checkpoint is due (before
    ``CheckpointHook``, and before validation for best checkpoints):

    * torch's CPU (and CUDA) generator, numpy's and ``random``'s state;
    * the train sampler's ``seed`` and the seed bound to mmengine's
      ``worker_init_fn`` (the workers' seeds derive from it and the rank);

    and stores the list in the checkpoint (``rng_states``, one entry per rank; rank 0
    writes it). On resume each rank takes its own entry: the data seeds before the
    loader is replayed, the generators just before the first new batch (after the
    replay of an iteration-based loop, whose draws are thrown away; at
    ``before_train_epoch`` of an epoch-based loop). A resume on another number of
    processes cannot be exact: it warns and keeps the fresh seeds. ``load_from``
    (not a resume) restores nothing. Validation is made neutral to the generators,
    so a checkpoint saved before or after it makes no difference.
    """

    # Before CheckpointHook (VERY_LOW) in after_train_iter / after_train_epoch.
    priority = 'LOW'

    def __init__(self):
        self._pending = None
        self._gathered = None
        self._before_val = None

    # --------------------------------------------------------------- the state
    @staticmethod
    def _get_state():
        np_state = np.random.get_state()
        state = dict(
            cpu=torch.get_rng_state(),
            numpy=dict(
                name=np_state[0],
                keys=torch.from_numpy(np_state[1].astype(np.int64)),
                pos=int(np_state[2]),
                has_gauss=int(np_state[3]),
                cached_gaussian=float(np_state[4])),
            random=random.getstate())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        return state

    @staticmethod
    def _set_state(state):
        torch.set_rng_state(state['cpu'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
        if 'numpy' in state:
            s = state['numpy']
            np.random.set_state((s['name'], s['keys'].numpy().astype(np.uint32),
                                 s['pos'], s['has_gauss'], s['cached_gaussian']))
        if 'random' in state:
            version, internal, gauss = state['random']
            random.setstate((version, tuple(internal), gauss))

    @staticmethod
    def _train_loader(runner):
        loop = getattr(runner, '_train_loop', None)  # never build it from here
        return loop.dataloader if isinstance(loop, BaseLoop) else None

    @classmethod
    def _data_seeds(cls, runner):
        loader = cls._train_loader(runner)
        seeds = {}
        sampler = getattr(loader, 'sampler', None)
        if isinstance(getattr(sampler, 'seed', None), int):
            seeds['sampler'] = sampler.seed
        fn = getattr(loader, 'worker_init_fn', None)
        if isinstance(fn, functools.partial) and isinstance(fn.keywords.get('seed'), int):
            seeds['worker'] = fn.keywords['seed']
        return seeds

    def _restore_data_seeds(self, runner, seeds):
        """Put the saved sampler / worker seeds back; True if anything changed."""
        loader = self._train_loader(runner)
        changed = []
        sampler = getattr(loader, 'sampler', None)
        if 'sampler' in seeds and getattr(sampler, 'seed', None) != seeds['sampler']:
            sampler.seed = seeds['sampler']
            if hasattr(sampler, '_indices_of_rank'):  # InfiniteSampler's stream
                sampler.indices = sampler._indices_of_rank()
            changed.append(f'sampler seed {seeds["sampler"]}')
        fn = getattr(loader, 'worker_init_fn', None)
        if ('worker' in seeds and isinstance(fn, functools.partial)
                and fn.keywords.get('seed') != seeds['worker']):
            loader.worker_init_fn = functools.partial(
                fn.func, *fn.args, **dict(fn.keywords, seed=seeds['worker']))
            changed.append(f'worker seed {seeds["worker"]}')
        if changed:
            print_log(f'ExactResumeHook: restored the {" and ".join(changed)} of the '
                      'checkpoint', logger='current')
        return bool(changed)

    # ------------------------------------------------------------- saving
    def _gather(self, runner):
        state = dict(rng=self._get_state(), data=self._data_seeds(runner))
        _, world_size = get_dist_info()
        states = all_gather_object(state) if world_size > 1 else [state]
        self._gathered = ((runner.epoch, runner.iter), states)

    @staticmethod
    def _checkpoint_due(runner, by_epoch):
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.by_epoch != by_epoch:
                continue
            if by_epoch:
                due = hook.every_n_epochs(runner, hook.interval, hook.save_begin) or (
                    hook.save_last and hook.is_last_train_epoch(runner))
            else:
                due = hook.every_n_train_iters(runner, hook.interval,
                                               hook.save_begin) or (
                                                   hook.save_last
                                                   and hook.is_last_train_iter(runner))
            if due:
                return True
        return False

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self._checkpoint_due(runner, by_epoch=False):
            self._gather(runner)

    def after_train_epoch(self, runner):
        if self._checkpoint_due(runner, by_epoch=True):
            self._gather(runner)

    def before_save_checkpoint(self, runner, checkpoint):
        # Called on rank 0 only (mmengine's save_checkpoint is master-only): the
        # other ranks' states were gathered when the checkpoint became due.
        if self._gathered is not None and self._gathered[0] == (runner.epoch,
                                                                runner.iter):
            states = self._gathered[1]
        else:  # a checkpoint saved outside the hooks: rank 0 is all there is
            states = [dict(rng=self._get_state(), data=self._data_seeds(runner))]
        checkpoint['rng_states'] = states

    # ------------------------------------------------------------- resuming
    def after_load_checkpoint(self, runner, checkpoint):
        if not getattr(runner, '_resume', False):
            return  # load_from: a new run with its own seeds
        rank, world_size = get_dist_info()
        states = checkpoint.get('rng_states')
        if states is None and 'torch_rng_state' in checkpoint:  # older checkpoints
            self._pending = dict(rng=checkpoint['torch_rng_state'], data={})
            return
        if not states:
            return
        if len(states) != world_size:
            print_log(
                f'ExactResumeHook: the checkpoint holds the random state of '
                f'{len(states)} processes, this run has {world_size}; random draws '
                'continue from fresh seeds and the resume is not exact.',
                logger='current',
                level='WARNING')
            return
        self._pending = states[rank]

    def before_train_epoch(self, runner):
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        loop = runner.train_loop
        iter_based = isinstance(loop, IterBasedTrainLoop) and hasattr(
            loop, 'dataloader_iterator')
        if self._restore_data_seeds(runner, pending.get('data', {})) and iter_based:
            # the iterator was made with the old seeds: make it again
            loop.dataloader_iterator = type(loop.dataloader_iterator)(loop.dataloader)
        if iter_based and loop.iter > 0:
            inner = loop.dataloader_iterator

            def restore():
                loop.dataloader_iterator = inner
                self._set_state(pending['rng'])

            loop.dataloader_iterator = _RestoreBeforeFetch(inner, loop.iter, restore)
        else:
            self._set_state(pending['rng'])

    # ------------------------------------------------------------- validation
    def before_val(self, runner):
        self._before_val = self._get_state()
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            self._gather(runner)  # training: a best checkpoint may follow

    def after_val(self, runner):
        if self._before_val is not None:
            self._set_state(self._before_val)
            self._before_val = None

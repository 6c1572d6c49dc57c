"""Record in every checkpoint which data the weights were trained on.

A checkpoint holds weights, not what they mean: which bands in which order, at
which ground sampling distance, scaled and normalised how. eofm writes that
(the *data contract*) into each checkpoint's ``meta['eofm_data_contract']``:
per modality of the training pipeline's :class:`eofm.LoadMultiModalTiles`, its
``bands``, ``gsd``, ``scale`` and, from the model's
:class:`eofm.MultiModalDataPreprocessor`, the normalisation ``mean`` / ``std``.
The band contract (:mod:`eofm.structures.bands`) and ``inspect`` tools read it.

Before training, the hook also hands the model's ``num_classes`` to the training
datasets, so that a label the model cannot predict is an error naming the sample
(:meth:`eofm.MultiModalDataset.prepare_data`), not torch's "Target N is out of
bounds".
"""
import copy

from mmengine.hooks import Hook

from eofm.registry import HOOKS
from eofm.utils.checkpoint import DATA_CONTRACT_KEY

__all__ = [
    'DataContractHook', 'data_contract', 'model_num_classes', 'model_ignore_index',
    'CONTRACT_KEY'
]

CONTRACT_KEY = DATA_CONTRACT_KEY


def data_contract(cfg):
    """``{modality: dict(bands, gsd, scale, mean, std)}`` of a config's training data
    (empty when its pipeline has no ``LoadMultiModalTiles``)."""
    from eofm.datasets import leaf_dataset_cfgs
    loader = cfg.get('train_dataloader') or {}
    modalities = {}
    for _, leaf in leaf_dataset_cfgs(loader.get('dataset') or {}):
        for t in leaf.get('pipeline') or []:
            if str(t.get('type', '')).split('.')[-1] == 'LoadMultiModalTiles':
                modalities = copy.deepcopy(dict(t.get('modalities') or {}))
                break
        if modalities:
            break
    norm = ((cfg.get('model') or {}).get('data_preprocessor') or {}).get('normalize') or {}
    out = {}
    for name, mcfg in modalities.items():
        entry = {k: mcfg.get(k) for k in ('bands', 'gsd', 'scale') if mcfg.get(k) is not None}
        if name in norm:
            entry.update(mean=list(norm[name]['mean']), std=list(norm[name]['std']))
        out[name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in entry.items()}
    return out


def model_num_classes(model):
    """The ``num_classes`` of a model's classification / decode head (None if it
    has none, or several different ones)."""
    model = getattr(model, 'module', model)  # DDP / FSDP wrappers
    for head in ('decode_head', 'head'):
        n = getattr(getattr(model, head, None), 'num_classes', None)
        if isinstance(n, int) and n > 0:
            return n
    return None


def model_ignore_index(model):
    """The label value a model's decode head ignores (None if it has none)."""
    model = getattr(model, 'module', model)
    v = getattr(getattr(model, 'decode_head', None), 'ignore_index', None)
    return v if isinstance(v, int) else None


def _leaf_datasets(dataset):
    """The datasets inside Concat / Repeat / ClassBalanced wrappers."""
    if hasattr(dataset, 'datasets'):
        for d in dataset.datasets:
            yield from _leaf_datasets(d)
    elif hasattr(dataset, 'dataset'):
        yield from _leaf_datasets(dataset.dataset)
    else:
        yield dataset


@HOOKS.register_module()
class DataContractHook(Hook):
    """Write :func:`data_contract` into ``meta`` of every saved checkpoint (added by
    the runner set-up, :func:`eofm.apis.build_runner`)."""

    priority = 'LOW'

    def __init__(self, contract):
        self.contract = dict(contract)

    def before_train(self, runner):
        n = model_num_classes(runner.model)
        if n is None:
            return
        ignore = model_ignore_index(runner.model)
        for dataset in _leaf_datasets(runner.train_dataloader.dataset):
            if hasattr(dataset, 'model_num_classes'):
                dataset.model_num_classes = n
                dataset.model_ignore_index = ignore

    def before_save_checkpoint(self, runner, checkpoint):
        if self.contract:
            checkpoint.setdefault('meta', {})[CONTRACT_KEY] = copy.deepcopy(self.contract)

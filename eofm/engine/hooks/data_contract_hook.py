"""Record in every checkpoint which data the weights were trained on.

A checkpoint holds weights, not what they mean: which bands in which order, at
which ground sampling distance, scaled and normalised how. eofm writes that
(the *data contract*) into each checkpoint's ``meta['eofm_data_contract']``:
per modality of the training pipeline's :class:`eofm.LoadMultiModalTiles`, its
``bands``, ``gsd``, ``scale`` and, from the model's
:class:`eofm.MultiModalDataPreprocessor`, the normalisation ``mean`` / ``std``.
The band contract (:mod:`eofm.structures.bands`) and ``inspect`` tools read it.
"""
import copy

from mmengine.hooks import Hook

from eofm.registry import HOOKS

__all__ = ['DataContractHook', 'data_contract', 'CONTRACT_KEY']

CONTRACT_KEY = 'eofm_data_contract'


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


@HOOKS.register_module()
class DataContractHook(Hook):
    """Write :func:`data_contract` into ``meta`` of every saved checkpoint (added by
    the runner set-up, :func:`eofm.apis.build_runner`)."""

    priority = 'LOW'

    def __init__(self, contract):
        self.contract = dict(contract)

    def before_save_checkpoint(self, runner, checkpoint):
        if self.contract:
            checkpoint.setdefault('meta', {})[CONTRACT_KEY] = copy.deepcopy(self.contract)

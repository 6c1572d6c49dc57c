"""Normalisation carried with the weights.

eofm writes into every checkpoint the bands, GSD, scaling and normalisation
statistics its weights were trained with (``meta['eofm_data_contract']``,
:class:`eofm.DataContractHook`). A config that starts from such a checkpoint
(``load_from``, or ``init_cfg=dict(type='Pretrained', checkpoint=...)`` of the model
or its backbone) normalises with those statistics, so that fine-tuning, testing and
scene inference see the data as the weights did: for each modality the checkpoint
records, they replace the config's (logged, with what changed), reordered by band
name when the config reads the bands in another order. A config keeps its own on
purpose with ``model.data_preprocessor.normalize_from='config'`` (logged when they
differ).
"""

from mmengine.logging import print_log

from eofm.utils.checkpoint import data_contract_of

__all__ = ['config_checkpoints', 'apply_checkpoint_normalization']


def config_checkpoints(cfg):
    """``[(where, path)]`` of the checkpoints a config starts its model from, the
    last one loaded first: ``load_from``, then the model's and the backbone's
    ``Pretrained`` ``init_cfg``."""
    out = []
    if cfg.get('load_from'):
        out.append(('load_from', cfg['load_from']))
    model = cfg.get('model') or {}
    for where, part in (('model.init_cfg', model),
                        ('model.backbone.init_cfg', model.get('backbone') or {})):
        init = part.get('init_cfg') if isinstance(part, dict) else None
        for item in init if isinstance(init, (list, tuple)) else [init]:
            if isinstance(item, dict) and item.get('type') == 'Pretrained' and \
                    item.get('checkpoint'):
                out.append((where, item['checkpoint']))
    return out


def _reorder(stats, trained, given):
    """``stats`` of the ``trained`` bands in the order of ``given`` (None when a
    given band was not trained)."""
    if not trained or not given:  # unnamed: usable when the counts agree
        return stats if not given or len(given) == len(stats['mean']) else None
    if list(trained) == list(given):
        return stats
    if any(b not in trained for b in given):
        return None
    idx = [list(trained).index(b) for b in given]
    return dict(mean=[stats['mean'][i] for i in idx], std=[stats['std'][i] for i in idx])


def _same(a, b, tol=1e-6):
    return a is not None and b is not None and all(
        len(a[k]) == len(b[k]) and all(abs(x - y) <= tol * max(1.0, abs(y))
                                       for x, y in zip(a[k], b[k]))
        for k in ('mean', 'std'))


def apply_checkpoint_normalization(cfg, checkpoint=None):
    """Set ``cfg.model.data_preprocessor.normalize`` from the checkpoint the config
    starts from, or from ``checkpoint`` (the file a tool is given) when set (see
    the module docstring); returns ``{modality: 'checkpoint' | 'config'}`` for the
    modalities the checkpoint records."""
    from eofm.datasets.normalization import resolve_normalize
    from eofm.engine.hooks.data_contract_hook import data_contract
    pre = (cfg.get('model') or {}).get('data_preprocessor')
    if not isinstance(pre, dict) or 'MultiModalDataPreprocessor' not in str(
            pre.get('type', '')):
        return {}
    contract, source = {}, None
    found = [('checkpoint', checkpoint)] if checkpoint else config_checkpoints(cfg)
    for where, path in found:
        contract = {m: c for m, c in data_contract_of(path).items()
                    if isinstance(c, dict) and 'mean' in c and 'std' in c}
        if contract:
            source = f'{path} ({where})'
            break
    if not contract:
        return {}
    keep = pre.get('normalize_from', 'checkpoint') == 'config'
    normalize = resolve_normalize(pre.get('normalize'))
    bands = {m: c.get('bands') for m, c in data_contract(cfg).items()}
    decided = {}
    for m, c in contract.items():
        ours = normalize.get(m)
        theirs = _reorder(dict(mean=list(c['mean']), std=list(c['std'])), c.get('bands'),
                          bands.get(m))
        if theirs is None:
            print_log(f"normalisation of {m!r}: the checkpoint {source} has statistics "
                      f"of the bands {c.get('bands')}, the config reads {bands.get(m)}; "
                      "the config's statistics are used", logger='current',
                      level=30)
            decided[m] = 'config'
            continue
        if _same(ours, theirs):
            print_log(f"normalisation of {m!r}: the config's statistics are those the "
                      f'weights in {source} were trained with', logger='current')
            decided[m] = 'checkpoint'
            continue
        if keep:
            if ours is not None:
                print_log(f"normalisation of {m!r}: the config's (mean {ours['mean']}) "
                          f"differs from the weights' in {source} (mean "
                          f"{theirs['mean']}); kept, as normalize_from='config' asks",
                          logger='current', level=30)
            decided[m] = 'config'
            continue
        normalize[m] = theirs
        decided[m] = 'checkpoint'
        print_log(f"normalisation of {m!r} from {source}, the statistics its weights "
                  'were trained with' + (
                      f" (the config's mean {ours['mean']} replaced; set "
                      "model.data_preprocessor.normalize_from='config' to keep it)"
                      if ours is not None else ''), logger='current', level=30)
    pre['normalize'] = normalize
    return decided

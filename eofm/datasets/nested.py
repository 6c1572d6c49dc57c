"""Datasets inside dataset wrappers: configs and built objects.

A split's ``dataset`` may be a wrapper around the datasets that read files:
MMEngine's ``ConcatDataset`` (``datasets=[...]``, DIOR's train + val), ``RepeatDataset``
and ``ClassBalancedDataset`` (``dataset=...``), mmpretrain's ``KFoldDataset``
(``dataset=...``). A wrapper takes no ``data_root`` / ``ann_file`` and has no
``pipeline``, so tools that override or inspect those fields go through the leaves
found here.
"""
import copy

__all__ = ['override_data_root', 'leaf_dataset_cfgs', 'override_dataset_cfg']

#: Config keys under which wrappers hold the datasets they wrap.
WRAPPED_KEYS = ('datasets', 'dataset')


def leaf_dataset_cfgs(cfg, label=''):
    """Yield ``(label, cfg)`` for the configs (dicts, not copies) of the datasets
    that read files; ``label`` says where one sits (``'datasets[1]'`` for the second
    part of a ``ConcatDataset``, ``'dataset'`` inside a ``RepeatDataset``, empty for
    an unwrapped dataset)."""

    def join(name):
        return f'{label}.{name}' if label else name

    wrapped = False
    for key in WRAPPED_KEYS:
        inner = cfg.get(key) if hasattr(cfg, 'get') else None
        if isinstance(inner, (list, tuple)):
            wrapped = True
            for i, c in enumerate(inner):
                yield from leaf_dataset_cfgs(c, join(f'{key}[{i}]'))
        elif hasattr(inner, 'get') and 'type' in inner:
            wrapped = True
            yield from leaf_dataset_cfgs(inner, join(key))
    if not wrapped:
        yield label, cfg


def override_dataset_cfg(cfg, **fields):
    """A copy of a dataset config with ``fields`` (``data_root=...``) set on every
    dataset that reads files, through any wrappers; fields given as None are left
    as they are."""
    cfg = copy.deepcopy(cfg)
    for _, leaf in leaf_dataset_cfgs(cfg):
        for key, value in fields.items():
            if value is not None:
                leaf[key] = value
    return cfg


def override_data_root(cfg, data_root):
    """Set ``data_root`` on every dataset config anywhere in ``cfg`` (in place).

    A config's dataloaders, their wrapped datasets (ConcatDataset, RepeatDataset,
    K-fold...) and the dataset configs that hooks carry (the pretraining report's
    probe sets) got ``data_root`` from the base config's variable when the file was
    parsed, so ``--cfg-options data_root=X`` changes only the top-level key. Every
    tool applies it through this function (:func:`eofm.apis.load_config`).
    Returns the number of dataset configs changed.
    """
    count = 0

    def walk(node):
        nonlocal count
        if isinstance(node, dict):
            if 'data_root' in node and 'type' in node:
                node['data_root'] = data_root
                count += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    for key in list(cfg.keys()):
        if key != 'data_root':
            walk(cfg[key])
    return count

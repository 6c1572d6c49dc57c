"""``--cfg-options data_root=X`` reaches every dataset of a config, through wrappers
and hooks, in every tool (one function: eofm.datasets.override_data_root)."""
from mmengine.config import Config

from eofm.apis.runner_setup import load_config
from eofm.datasets import leaf_dataset_cfgs

CONFIG = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'


def _roots(cfg):
    roots = {}
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            for label, leaf in leaf_dataset_cfgs(loader['dataset']):
                roots[f'{split}:{label}'] = leaf.get('data_root')
    for i, hook in enumerate(cfg.get('custom_hooks', [])):
        for k, v in hook.items():
            if isinstance(v, dict) and 'data_root' in v:
                roots[f'hook{i}.{k}'] = v['data_root']
    return roots


def test_data_root_reaches_loaders_wrappers_and_hooks(repo_root, tmp_path):
    import os.path as osp
    cfg = load_config(osp.join(repo_root, CONFIG), dict(data_root='/elsewhere/'))
    roots = _roots(cfg)
    assert len(roots) >= 3 and set(roots.values()) == {'/elsewhere/'}, roots
    # a ConcatDataset of two splits and a RepeatDataset around it
    path = tmp_path / 'wrapped.py'
    path.write_text(
        "data_root = 'data/x/'\n"
        "ds = dict(type='eofm.MultiModalDataset', data_root=data_root, ann_file='a.json')\n"
        "train_dataloader = dict(dataset=dict(type='RepeatDataset', times=2, dataset=dict(\n"
        "    type='ConcatDataset', datasets=[ds, dict(ds, ann_file='b.json')])))\n")
    cfg = load_config(str(path), dict(data_root='/y/'))
    leaves = list(leaf_dataset_cfgs(cfg.train_dataloader.dataset))
    assert len(leaves) == 2 and all(leaf['data_root'] == '/y/' for _, leaf in leaves)
    assert Config.fromfile(str(path)).train_dataloader.dataset.dataset.datasets[0][
        'data_root'] == 'data/x/'  # the file itself is unchanged

"""Every checkpoint records the bands, GSD, scaling and normalisation it was trained on."""
import os.path as osp

import pytest

from eofm.apis.runner_setup import load_config
from eofm.engine.hooks import DataContractHook, data_contract
from eofm.engine.hooks.data_contract_hook import CONTRACT_KEY
from eofm.utils.checkpoint import load_checkpoint_safely

CONFIG = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'


def test_contract_of_the_sample_pretraining_config(repo_root):
    cfg = load_config(osp.join(repo_root, CONFIG))
    contract = data_contract(cfg)
    assert contract['s2']['bands'] == ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A',
                                       'B11', 'B12']
    assert contract['s2']['scale'] == 'reflectance' and contract['s1']['scale'] == 'db'
    assert len(contract['s2']['mean']) == 10 and len(contract['hr']['std']) == 4
    assert contract['s1']['bands'] == ['VV', 'VH']
    ckpt = {}
    DataContractHook(contract).before_save_checkpoint(None, ckpt)
    assert ckpt['meta'][CONTRACT_KEY] == contract
    empty = {}
    DataContractHook({}).before_save_checkpoint(None, empty)
    assert empty == {}  # nothing to record: the checkpoint is left as it is


@pytest.mark.slow
def test_training_writes_it_into_the_checkpoint(tmp_path, repo_root):
    """A real (2-iteration) run through the runner set-up."""
    from eofm.apis import build_runner
    from eofm.datasets.sample_data import generate
    root = str(tmp_path / 'data')
    generate(root, num_tiles=4)
    cfg = load_config(osp.join(repo_root, CONFIG), {
        'data_root': root, 'train_cfg.max_iters': 2, 'custom_hooks': [
            dict(type='eofm.TeacherEMAHook')], 'default_hooks.checkpoint.interval': 2,
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'train_dataloader.batch_size': 2, 'env_cfg.dist_cfg.backend': 'gloo'})
    cfg.work_dir = str(tmp_path / 'work')
    cfg.launcher = 'none'
    build_runner(cfg).train()
    ckpt = load_checkpoint_safely(str(tmp_path / 'work' / 'iter_2.pth'))
    recorded = ckpt['meta'][CONTRACT_KEY]
    assert recorded == data_contract(cfg)
    assert recorded['s1']['bands'] == ['VV', 'VH'] and 'bands' not in recorded['hr']

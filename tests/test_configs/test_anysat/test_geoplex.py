"""AnySat's GeoPlex pretraining config: the paper's five sources with their patch
sizes and batch sizes (supplementary Table C), and two training steps of the 'tiny'
AnySat on fake data of all five sources through the code path of tools/train.py (one
block per source per step, every source's losses logged, finite)."""
import json
import math

import numpy as np
import pytest
from mmengine.hooks import Hook

from tests.helpers.config_helpers import build_runner, leaf_datasets, load_train_config
from eofm.models.anysat.anysat import ANYSAT_MODALITIES
from tests.helpers.fake_data.flair import make_flair_full_size
from tests.helpers.fake_data.pastis import make_pastis
from tests.helpers.fake_data.planted import make_planted
from tests.helpers.fake_data.treesatai import make_treesatai
from tests.helpers.fake_geo import write_geotiff

CONFIG = 'configs/anysat/anysat-jepa_base_8xb319-100e_geoplex.py'
SOURCES = [
    'eofm.TreeSatAITS', 'eofm.PASTISHD', 'eofm.FLAIR2', 'eofm.PLANTED',
    'eofm.MultiModalDataset'
]


def make_s2naip(root, tiles=2, size=16):
    """S2NAIP-Urban as an eofm annotation file: ``size`` px of 10 m (NAIP 8x finer),
    3 S2, 2 S1 and 2 Landsat dates per tile, in UTM 33N."""
    samples = []
    for k in range(tiles):
        origin = (400000.0 + 1000 * k, 5000000.0)
        mods = {}
        for name, bands, dates, pixel, factor in (('naip', 4, None, 1.25,
                                                   8), ('s2', 10, 3, 10.0, 1),
                                                  ('s1', 2, 2, 10.0, 1), ('l8', 11, 2,
                                                                          10.0, 1)):
            n = bands * (dates or 1)
            data = np.random.default_rng(k).uniform(0, 200,
                                                    (n, size * factor, size * factor))
            path = f'{name}/t{k}.tif'
            (root / name).mkdir(exist_ok=True)
            write_geotiff(
                root / path, data.astype(np.float32), origin, pixel, epsg=32633)
            mods[name] = dict(path=path)
            if dates:
                mods[name]['dates'] = [f'2021-0{d + 1}-15' for d in range(dates)]
        samples.append(dict(sample_id=f't{k}', modalities=mods))
    with open(root / 'annotations.json', 'w') as f:
        json.dump(dict(metainfo={}, data_list=samples), f)


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    out = []
    for name, make in (('tsai', lambda r: make_treesatai(r, time_series=True)),
                       ('pastis',
                        lambda r: make_pastis(r, n_patches=4, size=16, hr_scale=10)),
                       ('flair', make_flair_full_size), ('planted', make_planted),
                       ('s2naip', make_s2naip)):
        root = tmp_path_factory.mktemp(name)
        make(root)
        out.append(root)
    return out


class _Logs(Hook):

    def __init__(self):
        self.logs = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.logs.append({k: float(v) for k, v in outputs.items()})


def test_geoplex_config_setup_and_two_steps(roots, tmp_path):
    cfg = load_train_config(CONFIG, tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.AnySatJEPA' and model.backbone.arch == 'base'
    assert 'modalities' not in model.backbone  # the 11 of the release
    # supplementary Table C's patch sizes, the paper's global batches over 8 GPUs
    assert model.source_patch_sizes == [[10, 20, 30], [40, 80, 160], [10, 20, 50],
                                        [30, 60], [40, 80, 160]]
    assert [8 * b for b in model.source_batch_sizes] == [384, 8, 96, 2048, 16]
    assert cfg.train_dataloader.batch_sampler == dict(
        type='eofm.HeterogeneousBatchSampler', batch_sizes=model.source_batch_sizes)
    assert [d.type for d in cfg.train_dataloader.dataset.datasets] == SOURCES
    assert cfg.model_wrapper_cfg.type == 'eofm.SourceBlockDistributedDataParallel'
    assert set(model.modality_map.values()) <= set(ANYSAT_MODALITIES)
    assert model.modality_drop_ratio == 0.5 and model.date_drop_ratio == 0.5
    assert cfg.optim_wrapper.optimizer.lr == 5e-5
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert [h.type for h in cfg.custom_hooks] == ['eofm.TeacherEMAHook']
    # the runner set-up adds the runtime's ExactResumeHook back in front
    from eofm.apis.runner_setup import ensure_exact_resume_hook
    assert [h['type'] for h in ensure_exact_resume_hook(cfg.copy()).custom_hooks
            ] == ['eofm.ExactResumeHook', 'eofm.TeacherEMAHook']
    # every packed modality is normalised per source or documented as not
    packed = [
        m for ds in cfg.train_dataloader.dataset.datasets
        for m in ds.pipeline[-1].modalities
    ]
    assert set(packed) == set(model.modality_map)
    assert set(model.data_preprocessor.normalize) <= set(packed)

    # CPU size: tiny AnySat, one tile per source, fake tiles (PASTIS-HD 160 m,
    # S2NAIP 160 m), 3 dates
    model.backbone.arch = 'tiny'
    model.predictor = dict(depth=1, num_heads=4)
    model.source_batch_sizes = [1] * 5
    model.source_patch_sizes[1] = [40, 80]
    model.source_patch_sizes[4] = [40, 80]
    model.seed = 0
    cfg.train_dataloader.batch_sampler.batch_sizes = [1] * 5
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    for ds, root in zip(leaf_datasets(cfg.train_dataloader.dataset), roots):
        ds.data_root = str(root) + '/'
        for t in ds.pipeline:
            if t.type == 'eofm.TemporalSample':
                t.lengths = {m: 3 for m in t.lengths}
    cfg.optim_wrapper = dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    runner = build_runner(cfg)
    logs = _Logs()
    runner.register_hook(logs)
    runner.train()
    assert len(logs.logs) == 2
    for step in logs.logs:
        for i in range(5):
            assert math.isfinite(step[f'loss_pred_source{i}']), step
            assert math.isfinite(step[f'loss_contrastive_source{i}']), step
        assert step['loss'] == pytest.approx(
            sum(step[f'loss_source{i}'] for i in range(5)), rel=1e-4)

"""The example project: its modules, and its config fine-tuned on sample data."""
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import eofm  # noqa: F401
from projects.example_project.example_encoder import (ExampleAddNDVI,
                                                      ExampleSeriesEncoder)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(ROOT, 'projects', 'example_project', 'configs',
                  'example-encoder_fcn_1xb8-40it_eofm-sample-32px.py')


def test_ndvi_modality_from_the_s2_series():
    s2 = np.zeros((3, 10, 2, 2), np.float32)
    s2[:, 2], s2[:, 6] = 0.1, 0.5  # red, NIR
    s2[1, :, 0, 0] = 0.0  # an invalid pixel (zero-filled by the loader)
    out = ExampleAddNDVI()(dict(s2=s2, s2_mask=np.ones((3, 2, 2), bool),
                                s2_doy=np.array([5, 40, 90])))
    assert out['ndvi'].shape == (3, 1, 2, 2)
    np.testing.assert_allclose(out['ndvi'][0, 0], (0.5 - 0.1) / 0.6, rtol=1e-6)
    assert out['ndvi'][1, 0, 0, 0] == 0.0  # 0 / 0 is 0, not NaN
    assert out['ndvi_doy'].tolist() == [5, 40, 90] and 'ndvi_mask' in out
    with pytest.raises(KeyError, match="modality 's2' is not loaded"):
        ExampleAddNDVI()(dict(s1=s2))


def test_encoder_shapes_and_padded_dates():
    torch.manual_seed(0)
    enc = ExampleSeriesEncoder(dict(s2=10, ndvi=1), channels=8).eval()
    batch = dict(s2=torch.randn(2, 3, 10, 16, 16), ndvi=torch.randn(2, 3, 1, 16, 16))
    out = enc(batch)
    assert len(out) == 1 and out[0].shape == (2, 8, 16, 16)
    # a padded date (date_mask False) changes nothing, whatever its pixels
    padded = dict(s2=torch.cat([batch['s2'], 100 * torch.randn(2, 1, 10, 16, 16)], 1),
                  ndvi=torch.cat([batch['ndvi'], torch.randn(2, 1, 1, 16, 16)], 1),
                  s2_date_mask=torch.tensor([[1, 1, 1, 0]] * 2, dtype=torch.bool),
                  ndvi_date_mask=torch.tensor([[1, 1, 1, 0]] * 2, dtype=torch.bool))
    torch.testing.assert_close(enc(padded)[0], out[0])
    with pytest.raises(KeyError, match="lacks \\['ndvi'\\]"):
        enc(dict(s2=batch['s2']))
    with pytest.raises(ValueError, match='ndvi has 2 bands per date'):
        enc(dict(s2=batch['s2'], ndvi=torch.randn(2, 3, 2, 16, 16)))


@pytest.mark.slow
def test_config_fine_tunes_on_sample_data(tmp_path):
    """The project's config through eofm's tools/train.py path: the loss goes down
    over 40 iterations and the evaluation reports mIoU."""
    from mmengine.hooks import Hook

    from eofm.apis.runner_setup import build_runner, load_config, merge_train_args
    from eofm.datasets.sample_data import generate
    root = str(tmp_path / 'sample')
    generate(root, num_tiles=16, size=16, hr_factor=1, seed=0)
    cfg = load_config(CONFIG, {'train_dataloader.dataset.data_root': root + '/',
                               'val_dataloader.dataset.data_root': root + '/',
                               'test_dataloader.dataset.data_root': root + '/'})
    cfg = merge_train_args(cfg, SimpleNamespace(
        config=CONFIG, launcher='none', work_dir=str(tmp_path / 'work'), amp=False,
        auto_scale_lr=False, resume=None, no_validate=False))
    losses = []

    class Record(Hook):

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            losses.append(float(outputs['loss'].detach()))

    runner = build_runner(cfg)
    runner.register_hook(Record(), 'LOWEST')
    runner.train()
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
    metrics = runner.val_loop.run()
    assert 0.0 <= metrics['mIoU'] <= 100.0

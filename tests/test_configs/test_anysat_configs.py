"""AnySat's CPU JEPA pretraining config trains on generated sample data with the loss
going down, through the code path of tools/train.py."""
import numpy as np
import torch
from mmengine.hooks import Hook

from config_helpers import build_runner, load_train_config
from tools.misc.make_sample_dataset import generate

SAMPLE = 'configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py'


class _Losses(Hook):

    def __init__(self):
        self.losses, self.parts = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss'].detach()))
        self.parts.append(
            (float(outputs['loss_pred']), float(outputs['loss_contrastive'])))


def test_anysat_jepa_sample_pretraining_loss_goes_down(tmp_path):
    root = tmp_path / 'sample'
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    cfg = load_train_config(SAMPLE, tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.AnySatJEPA' and model.backbone.arch == 'tiny'
    assert model.modality_map == dict(hr='naip')
    assert model.mask.pred_mask_scale == (0.2, 0.8) and model.mask.npred == 4
    assert model.modality_drop_ratio == 0.5 and model.date_drop_ratio == 0.5
    assert model.base_momentum == 0.004 and model.end_momentum == 0.0
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert [h.type for h in cfg.custom_hooks] == ['eofm.TeacherEMAHook']
    cfg.train_dataloader.dataset.data_root = str(root) + '/'
    cfg.train_cfg.max_iters = 20
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)
    ]
    cfg.default_hooks.checkpoint.interval = 20
    cfg.randomness = dict(seed=0)
    runner = build_runner(cfg)
    watch = _Losses()
    runner.register_hook(watch)
    runner.train()
    losses = np.array(watch.losses)
    assert len(losses) == 20 and np.isfinite(losses).all()
    assert losses[-5:].mean() < 0.9 * losses[:5].mean(), losses
    # the EMA target moved towards the student, by less than the student moved
    net = runner.model
    assert int(net.teacher.steps) == 21  # the copy at init + one per iteration
    student = dict(net.backbone.named_parameters())
    for name, p in net.target_encoder.named_parameters():
        assert not p.requires_grad
        assert p.shape == student[name].shape
    diff = [(p - student[n]).abs().max()
            for n, p in net.target_encoder.named_parameters()]
    assert max(diff) > 0
    assert torch.isfinite(torch.stack(diff)).all()

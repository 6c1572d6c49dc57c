"""AnySat's CPU JEPA pretraining config trains on generated sample data with the loss
going down, through the code path of tools/train.py."""
import torch

from tests.helpers.config_helpers import load_train_config, pretrain_losses
from eofm.datasets.sample_data import generate

SAMPLE = 'configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py'


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
    # the runner set-up adds the runtime's ExactResumeHook back in front
    from eofm.apis.runner_setup import ensure_exact_resume_hook
    assert [h['type'] for h in ensure_exact_resume_hook(cfg.copy()).custom_hooks
            ] == ['eofm.ExactResumeHook', 'eofm.TeacherEMAHook']
    losses, runner = pretrain_losses(cfg, root, 20)
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

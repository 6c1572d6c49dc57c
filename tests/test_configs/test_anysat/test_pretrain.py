"""AnySat's CPU JEPA pretraining config trains on generated sample data with the loss
going down, through the code path of tools/train.py."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook

from eofm.apis.runner_setup import build_runner
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


class _TargetSpread(Hook):
    """Per-channel std over the patches of a fixed batch of the EMA target encoder's
    layer-normed patch tokens (the JEPA's regression targets)."""

    def __init__(self):
        self.batch, self.stds = None, []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.batch is None:
            self.batch = data_batch
        if runner.iter % 10 == 0:
            self._measure(runner.model)

    def after_train(self, runner):
        self._measure(runner.model)

    @torch.no_grad()
    def _measure(self, model):
        data = model.data_preprocessor(self.batch, True)
        batch = model.backbone.adapt_batch(model._rename(data['inputs']))
        tokens = model.target_encoder(batch, patch_size=model._patch_size(None),
                                      output='all')[:, 1:]
        tokens = F.layer_norm(tokens, (tokens.shape[-1], )).flatten(0, 1)
        self.stds.append(float(tokens.std(0).mean()))


@pytest.mark.slow
def test_jepa_targets_do_not_collapse_over_the_cpu_run(tmp_path):
    """The targets keep at least 40 % of their initial spread over the config's
    CPU run (100 iterations, its own schedule). With the whole model at the short
    run's 1e-3 they kept 15 % (0.31 at the start, 0.047 at the end: the combiner's
    cross block collapsed within 10 iterations); the config keeps the combiner at
    the paper's 5e-5: measured here 0.31 -> 0.16 at the lowest (52 %), level from
    iteration 60."""
    root = tmp_path / 'sample'
    generate(root, num_tiles=32, size=32, hr_factor=8, seed=0)
    cfg = load_train_config(SAMPLE, tmp_path / 'work')
    cfg.train_dataloader.dataset.data_root = str(root) + '/'
    assert cfg.train_cfg.max_iters == 100
    cfg.default_hooks.checkpoint.interval = 100
    cfg.randomness = dict(seed=0)
    runner = build_runner(cfg)
    spread = _TargetSpread()
    runner.register_hook(spread)
    runner.train()
    assert len(spread.stds) == 11  # iterations 0, 10, ..., 90 and the end
    assert min(spread.stds) >= 0.4 * spread.stds[0], spread.stds

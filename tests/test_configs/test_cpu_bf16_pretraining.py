"""Every CPU pretraining config trains with ``tools/train.py --amp`` (bf16 autocast
through ``eofm.CPUAmpOptimWrapper``) on a CPU with bf16 matrix units: the loss goes
down and the first step's loss agrees with fp32's."""
import pytest
import torch

from eofm.datasets.sample_data import generate
from eofm.utils.precision import cpu_has_bf16_matrix_units
from tests.helpers.config_helpers import load_train_config, pretrain_losses

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not cpu_has_bf16_matrix_units(),
                       reason='bf16 is emulated (and slow) on CPUs without bf16 '
                       'matrix units; --amp keeps fp32 there')
]

CONFIGS = (
    'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py',
    'configs/msgfm/msgfm-pretrain_swin-tiny_1xb4-100it_eofm-sample-192px.py',
    'configs/omnisat/omnisat-pretrain_small_1xb4-100it_eofm-sample-60m.py',
    'configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py',
)


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp('sample')
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    return root


def _cfg(config, work_dir, amp):
    cfg = load_train_config(config, work_dir, amp=amp)
    # the SkySense demo's end-of-run report is not part of the step
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h['type'] != 'eofm.PretrainReportHook']
    cfg.train_dataloader.batch_size = 2
    return cfg


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: c.split('/')[1])
def test_bf16_pretraining_loss_goes_down_and_starts_as_fp32(config, sample, tmp_path):
    cfg = _cfg(config, tmp_path / 'bf16', amp=True)
    assert cfg.optim_wrapper.type == 'eofm.CPUAmpOptimWrapper'
    losses, runner = pretrain_losses(cfg, sample, 20)
    assert losses[-5:].mean() < 0.9 * losses[:5].mean(), losses
    # parameters stay fp32 under autocast
    assert {p.dtype for p in runner.model.parameters()} == {torch.float32}
    ref, _ = pretrain_losses(_cfg(config, tmp_path / 'fp32', amp=False), sample, 1)
    # the same seed, data and weights: bf16 products (8-bit mantissa) move the first
    # loss by well under 5 %
    assert abs(losses[0] - ref[0]) < 0.05 * abs(ref[0]), (losses[0], ref[0])

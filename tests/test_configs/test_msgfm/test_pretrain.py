"""msGFM's CPU pretraining config trains on generated sample data with the loss going
down, through the code path of tools/train.py."""
from tests.helpers.config_helpers import load_train_config, pretrain_losses
from eofm.datasets.sample_data import generate

SAMPLE = 'configs/msgfm/msgfm-pretrain_swin-tiny_1xb4-100it_eofm-sample-192px.py'


def test_msgfm_sample_pretraining_loss_goes_down(tmp_path):
    root = tmp_path / 'sample'
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    cfg = load_train_config(SAMPLE, tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.MsGFM' and model.backbone.arch == 'tiny'
    assert model.backbone.sensors == dict(hr=4, s2=10, s1=2)
    assert model.pairs == [('s1', 's2')] and model.cross_prob == 0.5
    assert model.mask_ratio == 0.6 and model.aux_loss_weight == 0.01
    losses, runner = pretrain_losses(cfg, root, 30)
    assert losses[-5:].mean() < 0.85 * losses[:5].mean(), losses


def test_msgfm_paper_config_follows_table_10():
    from eofm.models.common import empty_weights
    from eofm.registry import MODELS
    cfg = load_train_config(
        'configs/msgfm/msgfm-pretrain_swin-b_8xb172-800e_geopile2-192px.py', 'unused')
    model = cfg.model
    assert model.backbone.arch == 'base' and model.backbone.img_size == 192
    assert model.backbone.moe_cfg == dict(num_experts=8, top_k=1, capacity_factor=1.25)
    assert model.mask_ratio == 0.6 and model.mask_patch_size == 32
    assert model.pairs == [('s1', 's2'), ('rgb', 'dsm')]
    assert cfg.train_dataloader.batch_sampler.batch_sizes == [128, 32, 12]
    assert model.source_batch_sizes == [128, 32, 12]
    assert model.source_lr_scales == [1.0, 0.25, 0.1]
    assert cfg.model_wrapper_cfg == dict(
        type='eofm.SourceBlockDistributedDataParallel', find_unused_parameters=True)
    assert [d.type for d in cfg.train_dataloader.dataset.datasets
            ] == ['eofm.MultiModalDataset', 'eofm.SEN12MS', 'eofm.MultiModalDataset']
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.param_scheduler[0].start_factor * 1e-4 == 5e-7
    assert cfg.param_scheduler[1].milestones == [700]
    assert cfg.train_cfg.max_epochs == 800
    with empty_weights():
        net = MODELS.build(model)
    moe = [n for n, _ in net.backbone.named_modules() if n.endswith('.experts')]
    # the odd blocks of the 18-block stage 3: 1, 3, ..., 17
    assert len(moe) == 9
    assert sum(p.numel() for p in net.parameters()) == 239_020_344

# msGFM pretraining (Han et al., CVPR 2024, Sec. 3 and appendix B) at CPU size on
# eofm's sample data: one Swin encoder shared by the sensors (eofm.MsGFMSwin,
# preset 'tiny': embed 32, depths [2, 2, 2, 2]) with a patch embedding per sensor (hr:
# R, G, B, NIR; s2: 10 bands; s1: VV, VH), Mixture-of-Experts MLPs in every other
# block of stage 3 (8 experts, top-1), SimMIM masking per sensor (ratio 0.6, 32 px
# mask patches) and cross-sensor reconstruction for the paired S1 / S2 images with
# probability 0.5 (Eq. 1), L1 on masked pixels plus 0.01 x the MoE balancing loss.
# 100 iterations of 4 tiles, a few minutes on 2 CPU cores; the loss goes down.
#
# Data: python tools/misc/make_sample_dataset.py data/sample (seconds). The Sentinel
# images are read at 2.5 m (4 x finer than native) so that a 192 px HR crop comes
# with 96 px Sentinel crops, enough for the encoder's stride 32; the first valid
# date of each series is used (the paper's sensors are single images).
_base_ = [
    '../_base_/datasets/eofm_sample.py',
    '../_base_/default_runtime_eofm.py',
]
crop = 192
modalities = dict(
    hr=dict(scale='uint8'),
    s2=dict(bands={{_base_.s2_bands}}, scale='reflectance', gsd=2.5),
    s1=dict(bands=['VV', 'VH'], scale='db', gsd=2.5))
pretrain_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=modalities, reference='hr'),
    dict(type='eofm.TemporalSample', lengths=dict(s2=1, s1=1)),
    dict(type='eofm.AlignedRandomCrop', size=crop, reference='hr'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=pretrain_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

model = dict(
    type='eofm.MsGFM',
    backbone=dict(
        type='eofm.MsGFMSwin',
        arch='tiny',
        sensors=dict(hr=4, s2=10, s1=2),
        img_size=crop,
        moe_cfg=dict(num_experts=8)),
    pairs=[('s1', 's2')],
    cross_prob=0.5,
    mask_ratio=0.6,
    mask_patch_size=32,
    aux_loss_weight=0.01,
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', normalize={{_base_.normalize}}))

max_iters = 100
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=10),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters - 10,
        eta_min=1e-5,
        by_epoch=False,
        begin=10,
        end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=50, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# Each rank draws its own augmentations and pairs (seed + rank), as mmpretrain's
# self-supervised recipes do, so N processes see N different draws per step;
# the exact-resume hook the runner set-up adds saves every rank's RNG state.
randomness = dict(seed=0, deterministic=False, diff_rank_seed=True)

# OmniSat pretraining (Astruc et al., ECCV 2024, Sec. 3.2-3.4) at CPU size on eofm's
# generated sample data: masked multimodal reconstruction (ratio 0.75, masked tokens
# replaced by a learned token; aerial index-bypass decoder, Sentinel decoders at the
# top 25 % L-TAE dates) + MIL-NCE (tau 0.1) across the hr / s2 / s1 tokens of each
# 10 m patch, weights 1:1, Adam (lr 1e-4 in the paper; 1e-3 here for a short run).
# Tiles of 60 m cut in 6 x 6 patches of 10 m, as TreeSatAI-TS; the encoder is a
# small OmniSat (d = 64, 2 self-attention blocks, 4 heads; the paper's is d = 256,
# 6 blocks, 16 heads: omnisat-pretrain_1xb128-250e_treesatai-ts-60m.py).
# 100 iterations of 4 tiles, a few minutes on 2 CPU cores; the loss goes down.
#
# Data: python tools/misc/make_sample_dataset.py data/sample (seconds). The sample's
# HR image (4 bands at 1.25 m: 8 px per 10 m patch) is read at 0.3125 m (4x finer)
# so that a 10 m patch is 32 px: OmniSat's aerial projector (stride-2 stem and four
# 2x max-pools) needs 32 to 63 px per patch; the reference uses 50 px (0.2 m).
# Sentinel-2 (10 bands) and Sentinel-1 (VV, VH) series at 10 m: one pixel per patch.
_base_ = [
    '../_base_/datasets/eofm_sample.py',
    '../_base_/default_runtime_eofm.py',
]
tile_m = 60.0
hr_gsd = 0.3125
crop = int(tile_m / hr_gsd)  # 192 px of HR, 6 px of Sentinel
modalities = dict(
    hr=dict(scale='uint8', gsd=hr_gsd),
    s2=dict(bands={{_base_.s2_bands}}, scale='reflectance'),
    s1=dict(bands=['VV', 'VH'], scale='db'))
pretrain_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=modalities, reference='hr'),
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6)),
    dict(type='eofm.DateJitter', modalities=['s2', 's1'], max_shift=5),
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
    type='eofm.OmniSatPretrainer',
    backbone=dict(
        type='eofm.OmniSat',
        arch=dict(
            embed_dim=64,
            depth=2,
            num_heads=4,
            mlp_ratio=4.0,
            patch_size=10.0,
            tile_size=tile_m),
        modalities=('hr', 's2', 's1'),
        modality_cfgs=dict(hr=dict(kind='image', in_channels=4, gsd=hr_gsd)),
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1),
    mask_ratio=0.75,
    date_threshold=0.25,
    contrastive=dict(type='eofm.MILNCELoss', tau=0.1),
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', normalize={{_base_.normalize}}))

max_iters = 100
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3), clip_grad=None)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
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

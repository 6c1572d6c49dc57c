# msGFM pretraining at the paper's scale (Han et al., CVPR 2024, Sec. 3-4.1, Table 1
# and Table 10): Swin-B shared by four sensors (RGB 3, Sentinel-2 13, SAR 2, DSM 1
# channels; one patch embedding each), MoE MLPs (8 experts, top-1, capacity 1.25) in
# the odd blocks of stage 3, SimMIM (mask ratio 0.6, 32 px mask patches, L1 on masked
# pixels), cross-sensor reconstruction with probability 0.5 for SAR <-> Sentinel-2
# (SEN12MS) and RGB <-> DSM (MDAS), MoE loss weight 0.01; 192 px images; 800 epochs,
# 10 warmup epochs from 5e-7, lr x 0.1 at epoch 700; AdamW, weight decay 0.05.
# Heterogeneous batches (appendix B.1): every step takes 128 RGB, 32 SEN12MS and 12
# MDAS images per GPU (eofm.HeterogeneousBatchSampler), 8 GPUs; an epoch visits each
# source once.
#
# Per-source learning rates {1e-4, 0.25e-4, 1e-5} (Table 10): the encoder is shared,
# so each step does one update per source block at lr x {1, 0.25, 0.1}
# (MsGFM.source_lr_scales). Patch size 4 (the GFM / SimMIM code the paper follows)
# where the text says 16 (patch_size is configurable).
#
# Data (GeoPile-2, Table 1), one eofm annotation file per source (the format of
# eofm.MultiModalDataset, docs/datasets.md):
#   data/geopile2/rgb.json     GeoPile + MillionAID RGB images, modality `rgb`
#   data/sen12ms/...           the official SEN12MS layout (configs/_base_/datasets/
#                              sen12ms.py), modalities `s2` (13 bands) and `s1`
#   data/geopile2/mdas.json    MDAS RGB + DSM resized to 384 px, `rgb` and `dsm`
_base_ = ['../_base_/default_runtime_eofm.py']
img_size = 192
batch_sizes = [128, 32, 12]  # per GPU: RGB, SEN12MS, MDAS
s2_bands = [
    'B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11',
    'B12'
]


def _pipeline(modalities, reference):
    return [
        dict(
            type='eofm.LoadMultiModalTiles',
            modalities=modalities,
            reference=reference,
            missing='skip'),
        dict(
            type='eofm.AlignedRandomResizedCrop',
            size=img_size,
            scale=(0.67, 1.0),
            reference=reference),
        dict(type='eofm.AlignedRandomFlip', prob=0.5),
        dict(type='eofm.PackMultiModalInputs', modalities=list(modalities)),
    ]


rgb = dict(
    type='eofm.MultiModalDataset',
    data_root='data/geopile2/',
    ann_file='rgb.json',
    pipeline=_pipeline(dict(rgb=dict(scale='uint8')), 'rgb'))
sen12ms = dict(
    type='eofm.SEN12MS',
    data_root='data/sen12ms/',
    split_file='splits/train_list.txt',
    pipeline=_pipeline(
        dict(
            s2=dict(bands=s2_bands, scale='reflectance'),
            s1=dict(bands=['VV', 'VH'], scale='none')), 's2'))
mdas = dict(
    type='eofm.MultiModalDataset',
    data_root='data/geopile2/',
    ann_file='mdas.json',
    pipeline=_pipeline(dict(rgb=dict(scale='uint8'), dsm=dict()), 'rgb'))

train_dataloader = dict(
    batch_size=1,  # the batch sampler's per-source sizes apply
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(
        type='eofm.HeterogeneousBatchSampler', batch_sizes=batch_sizes),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(type='ConcatDataset', datasets=[rgb, sen12ms, mdas]))
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
        arch='base',
        sensors=dict(rgb=3, s2=13, s1=2, dsm=1),
        img_size=img_size,
        patch_size=4,
        window_size=6,
        moe_blocks='every_other',
        moe_stages=(2, ),
        moe_cfg=dict(num_experts=8, top_k=1, capacity_factor=1.25)),
    pairs=[('s1', 's2'), ('rgb', 'dsm')],
    cross_prob=0.5,
    mask_ratio=0.6,
    mask_patch_size=32,
    aux_loss_weight=0.01,
    # GeoPile / MillionAID RGB has no DSM: those images reconstruct themselves
    missing_partner='self',
    source_batch_sizes=batch_sizes,
    source_lr_scales=[1.0, 0.25, 0.1],
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        normalize=dict(
            rgb=dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))))

max_epochs = 800
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, begin=10, milestones=[700], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=10, max_keep_ckpts=3))
# DDP that keeps the per-source updates (one per source block, each forward through
# DDP); experts that a batch routes no token to get no gradient
model_wrapper_cfg = dict(
    type='eofm.SourceBlockDistributedDataParallel', find_unused_parameters=True)
auto_scale_lr = dict(enable=False, base_batch_size=8 * (128 + 32 + 12))

# Each rank draws its own augmentations, crops and pairs, as in the hosts'
# self-supervised recipes; resume restores every rank's own RNG state.
randomness = dict(seed=0, deterministic=False, diff_rank_seed=True)

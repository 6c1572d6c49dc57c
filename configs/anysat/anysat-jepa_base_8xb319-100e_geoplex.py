# AnySat JEPA pretraining on GeoPlex (Astruc et al., CVPR 2025, Sec. 3.3 and
# supplementary Sec. C-D, Table C): one AnySat-base (125.9 M parameters) learns from
# five datasets at once, each with its own tiles, modalities and patch sizes:
#
#   source        tile     patch sizes P (m)  modalities (AnySat names)    batch (8 GPUs)
#   TreeSatAI-TS  60 m     10, 20, 30         aerial, s2, s1-asc           384 = 8 x 48
#   PASTIS-HD     1280 m   40, 80, 160        spot, s2, s1                 8 = 8 x 1
#   FLAIR         100 m    10, 20, 50         aerial-flair, s2             96 = 8 x 12
#   PLANTED       120 m    30, 60             s2, s1, l7, alos, modis      2048 = 8 x 256
#   S2NAIP-Urban  640 m    40, 80, 160        naip, s2, s1, l8             16 = 8 x 2
#
# The paper's per-dataset batch sizes (supplementary "Optimization Parameters") are
# read as global batches over its 8 H100: every step draws one block per source
# (eofm.HeterogeneousBatchSampler, per-rank sizes below); AnySatJEPA preprocesses,
# encodes and back-propagates each block on its own, with a patch size drawn from its
# source's list (source_patch_sizes), and makes one AdamW update per step
# (eofm.SourceBlockDistributedDataParallel keeps that under DDP). Each source's
# modalities get a prefix in its pipeline ('tsai_s2', 'pastis_s2', ...) so that the
# data preprocessor normalises them with that dataset's statistics; modality_map
# gives them their AnySat projector.
#
# Objective (as anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py): EMA target encoder
# (0.996 -> 1.0 linearly), I-JEPA multi-block masks, 4-block predictor (29.5 M),
# modality dropout 0.5, half of the dates dropped, smooth-L1 + MIL-NCE (tau 0.1).
# MODIS (PLANTED) is AnySat's tile-level token. AdamW lr 5e-5 (the paper's single
# rate; the reference's GeoPlex experiment file sets 1e-4), weight decay 0.05.
#
# Assumptions (not in the paper): 100 epochs of the largest source (PLANTED: ~525
# steps each), a linear warmup then a constant rate (the paper's ReduceLROnPlateau
# needs a validation metric that pretraining does not have), bf16 AMP, 50 dates per
# TreeSatAI-TS / PASTIS-HD / FLAIR series.
#
# Data layouts: configs/_base_/datasets/{treesatai_ts,pastis_hd,flair,planted}.py.
# S2NAIP-Urban has no public layout that eofm knows: give it as an eofm annotation
# file (eofm.MultiModalDataset; data/s2naip_urban/annotations.json, one sample per
# 640 m tile: 'naip' (R, G, B, NIR at 1.25 m, 512 px), 's2' (10 bands), 's1' (VV, VH
# in dB) and 'l8' (the 11 Landsat 8/9 bands of AnySat's projector, resampled to
# 10 m) with their dates). PLANTED and S2NAIP-Urban have no published statistics
# (see `normalize` below).
_base_ = ['../_base_/default_runtime_eofm.py']

# ------------------------------------------------------------------ sources
# per-rank (per-GPU) batch size of each source, in the order of `datasets`
batch_sizes = [48, 1, 12, 256, 2]
patch_sizes = [[10, 20, 30], [40, 80, 160], [10, 20, 50], [30, 60], [40, 80, 160]]
num_dates = 50


def _prefix(name, modalities):
    """RenameModality steps giving every modality of a source its prefix."""
    return [
        dict(type='eofm.RenameModality', src=m, dst=f'{name}_{m}') for m in modalities
    ]


def _pack(name, modalities):
    return dict(
        type='eofm.PackMultiModalInputs',
        modalities=[f'{name}_{m}' for m in modalities])


tsai_mods = ['aerial', 's2', 's1_asc']
tsai = dict(
    type='eofm.TreeSatAITS',
    data_root='data/treesatai_ts/',
    with_species=False,
    pipeline=[
        dict(
            type='eofm.LoadMultiModalTiles',
            reference='aerial',
            modalities=dict(aerial=dict(gsd=0.2), s2=dict(), s1_asc=dict())),
        dict(
            type='eofm.TemporalSample',
            lengths=dict(s2=num_dates, s1_asc=num_dates),
            mode='random'),
        dict(type='eofm.AlignedRandomCrop', size=300, reference='aerial'),
        *_prefix('tsai', tsai_mods),
        _pack('tsai', tsai_mods),
    ])

pastis_mods = ['spot', 's2', 's1']
pastis = dict(
    type='eofm.PASTISHD',
    data_root='data/pastis_hd/',
    folds=[1, 2, 3],
    pipeline=[
        dict(
            type='eofm.LoadMultiModalTiles',
            modalities=dict(
                s2=dict(scale='reflectance'), s1_asc=dict(), spot=dict(scale='uint8'))),
        dict(
            type='eofm.TemporalSample',
            lengths=dict(s2=num_dates, s1_asc=num_dates),
            mode='random'),
        dict(type='eofm.RenameModality', src='s1_asc', dst='s1'),
        *_prefix('pastis', pastis_mods),
        _pack('pastis', pastis_mods),
    ])

flair_mods = ['aerial', 's2']
flair = dict(
    type='eofm.FLAIR2',
    data_root='data/flair/',
    split='train',
    pipeline=[
        dict(
            type='eofm.LoadMultiModalTiles',
            modalities=dict(
                aerial=dict(bands=['R', 'G', 'B', 'NIR', 'DEM'], scale='uint8'))),
        dict(type='eofm.AlignedRandomCrop', size=500, reference='aerial'),
        dict(type='eofm.LoadFLAIR2Sentinel', size=10, scale='reflectance'),
        dict(type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='random'),
        *_prefix('flair', flair_mods),
        _pack('flair', flair_mods),
    ])

planted_mods = ['s2', 's1', 'l7', 'alos', 'modis']
planted = dict(
    type='eofm.PLANTED',
    data_root='data/planted/',
    split='train',
    modalities=planted_mods,
    pipeline=[
        dict(type='eofm.LoadPlantedDates'),
        dict(
            type='eofm.LoadMultiModalTiles',
            modalities={m: dict()
                        for m in planted_mods},
            reference='s2'),
        dict(type='eofm.LoadPlantedMasks'),
        dict(type='eofm.AppendBandRatio', modality='s1'),
        dict(type='eofm.AppendBandRatio', modality='alos'),
        *_prefix('planted', planted_mods),
        _pack('planted', planted_mods),
    ])

s2naip_mods = ['naip', 's2', 's1', 'l8']
s2naip = dict(
    type='eofm.MultiModalDataset',
    data_root='data/s2naip_urban/',
    ann_file='annotations.json',
    pipeline=[
        dict(
            type='eofm.LoadMultiModalTiles',
            reference='naip',
            modalities=dict(
                naip=dict(scale='uint8'),
                s2=dict(scale='reflectance', gsd=10),
                s1=dict(gsd=10),
                l8=dict(gsd=10))),
        dict(type='eofm.AppendBandRatio', modality='s1', mode='difference'),
        *_prefix('s2naip', s2naip_mods),
        _pack('s2naip', s2naip_mods),
    ])

train_dataloader = dict(
    batch_size=1,  # the batch sampler's per-source sizes apply
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='eofm.HeterogeneousBatchSampler', batch_sizes=batch_sizes),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type='ConcatDataset',
        datasets=[tsai, pastis, flair, planted, s2naip],
        ignore_keys=['classes', 'species']))  # labels are not used
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

# ------------------------------------------------------------------ model
imagenet = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
normalize = dict(
    # AnySat's TreeSatAI-TS statistics (raw digital numbers), as
    # configs/_base_/datasets/treesatai_ts_60m.py; Sentinel-1 as stored
    tsai_aerial=dict(
        mean=[150.8935, 92.7139, 84.8544, 80.7042],
        std=[36.7649, 27.6250, 22.4795, 26.7337]),
    tsai_s2=dict(
        mean=[
            4304.33, 4159.27, 4057.78, 4328.95, 4571.22, 4644.87, 4837.25, 4700.26,
            2823.26, 2319.97
        ],
        std=[
            3538.00, 3324.23, 3270.07, 3250.53, 2897.39, 2754.50, 2821.52, 2625.95,
            1731.56, 1549.30
        ]),
    # PASTIS(-R) statistics, as configs/_base_/datasets/pastis{,_r}.py; SPOT:
    # ImageNet's (the release gives none)
    pastis_s2=dict(
        mean=[
            0.11659, 0.13757, 0.14292, 0.17648, 0.27193, 0.30636, 0.32059, 0.33191,
            0.24229, 0.16394
        ],
        std=[
            0.19426, 0.18819, 0.19594, 0.18672, 0.17546, 0.17694, 0.17849, 0.17677,
            0.14590, 0.12993
        ]),
    pastis_s1=dict(
        mean=[-10.93095, -17.34851, 6.41751], std=[3.28597, 3.21295, 3.34211]),
    pastis_spot=imagenet,
    # FLAIR aerial statistics, as configs/_base_/datasets/flair.py
    flair_aerial=dict(
        mean=[v / 255 for v in (105.08, 110.87, 101.82, 106.38, 53.26)],
        std=[v / 255 for v in (52.17, 45.38, 44.0, 39.69, 79.3)]))
# Not normalised here (no published statistics): FLAIR's Sentinel-2 (reflectance, as
# the AnySat FLAIR configs), PLANTED and S2NAIP-Urban; compute theirs with
# tools/analysis_tools/dataset_stats.py and add them above.
modality_map = dict(
    tsai_aerial='aerial',
    tsai_s2='s2',
    tsai_s1_asc='s1-asc',
    pastis_spot='spot',
    pastis_s2='s2',
    pastis_s1='s1',
    flair_aerial='aerial-flair',
    flair_s2='s2',
    planted_s2='s2',
    planted_s1='s1',
    planted_l7='l7',
    planted_alos='alos',
    planted_modis='modis',
    s2naip_naip='naip',
    s2naip_s2='s2',
    s2naip_s1='s1',
    s2naip_l8='l8')

model = dict(
    type='eofm.AnySatJEPA',
    backbone=dict(type='eofm.AnySat', arch='base'),  # the 11 modalities
    predictor=dict(depth=4, num_heads=16),
    modality_map=modality_map,
    source_batch_sizes=batch_sizes,
    source_patch_sizes=patch_sizes,
    mask=dict(
        enc_mask_scale=(0.85, 1.0),
        pred_mask_scale=(0.2, 0.8),
        aspect_ratio=(0.75, 1.5),
        nenc=1,
        npred=4),
    modality_drop_ratio=0.5,
    date_drop_ratio=0.5,
    base_momentum=0.004,
    end_momentum=0.0,
    contrastive=dict(tau=0.1),
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor', normalize=normalize))

# ------------------------------------------------------------------ schedule
max_epochs = 100
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=5e-5, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
custom_hooks = [
    dict(type='eofm.TeacherEMAHook')
]
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=5, max_keep_ckpts=3))
# one forward / backward per source block through DDP; modalities absent from a
# source's block get no gradient
model_wrapper_cfg = dict(
    type='eofm.SourceBlockDistributedDataParallel', find_unused_parameters=True)
auto_scale_lr = dict(enable=False, base_batch_size=8 * sum(batch_sizes))

# Each rank draws its own augmentations, crops and pairs, as in the hosts'
# self-supervised recipes; resume restores every rank's own RNG state.
randomness = dict(seed=0, deterministic=False, diff_rank_seed=True)

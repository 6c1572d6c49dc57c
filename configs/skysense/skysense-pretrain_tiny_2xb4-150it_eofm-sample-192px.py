# SkySense pretraining (MGCL + cross-modal alignment + geo-context prototype
# learning) at CPU scale: the tiny preset (Swin V2 32-d, 2-layer ViTs, 2-layer 64-d
# fusion, 4 x 8 regions x 8 prototypes) on eofm's generated sample data, 2 processes
# x 4 samples, 150 iterations: a few minutes on 2 cores. eofm's main job:
#   python tools/misc/make_sample_dataset.py data/sample --num-tiles 168 --num-val 96
#   tools/dist_train.sh configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py 2
# The work dir gets checkpoints, the log, and report.md (loss curves, prototype
# map, linear probes of the teacher vs a random initialisation).
_base_ = [
    '../_base_/datasets/eofm_sample.py',
    '../_base_/default_runtime_eofm.py',
]

# Two views of each sample, each from its own draw of the augmentations (Sec. 3.3:
# "two sets of random augmentations are employed"). For the series these are a
# random fixed-size selection of the cloud-filtered dates and random disturbances
# of the dates (Sec. 4.1, supplementary J), drawn per view like the HR crops: the
# contrast between views then asks for features that do not depend on which dates
# were seen. Pixel-level pairs stay exact in space (the crops' geometry).
view_common = [
    dict(type='eofm.AlignedRandomResizedCrop', size=192, scale=(0.35, 1.0),
         reference='hr'),
    dict(type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal',
                                                             'vertical']),
    dict(type='eofm.AlignedRandomRot90', prob=0.5),
    dict(type='eofm.RandomColorJitter', prob=0.8),
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6)),
    dict(type='eofm.DateJitter', modalities=['s2', 's1'], max_shift=5),
]
# BYOL / DINO's blur schedule (always in one view, 10 % in the other) with sigma up
# to 0.5 px instead of 2 px: the sample HR is 1.25 m and its textures (tree crowns,
# orchard rows) are 4-5 px across, which sigma = 2 px erases. Measured on the hard
# variant: with 2 px the teacher's HR features lost orchard vs forest (linear-probe
# recall of orchard 0.46, 0.94 at random init); with 0.5 px they keep it (0.96).
blur = (0.1, 0.5)
view_1 = view_common + [dict(type='eofm.RandomGaussianBlur', prob=1.0, sigma=blur)]
view_2 = view_common + [
    dict(type='eofm.RandomGaussianBlur', prob=0.1, sigma=blur),
    dict(type='eofm.RandomSolarize', prob=0.2),
]
pretrain_pipeline = [
    {{_base_.load}},
    dict(type='eofm.FilterCloudyDates', modality='s2', cloud_key='s2_scl',
         max_cloud_fraction=0.5, min_dates=4),
    dict(type='eofm.MultiModalMultiView', transforms=[view_1, view_2],
         num_views=[1, 1]),
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
    type='eofm.SkySensePretrainer',
    backbone=dict(
        type='eofm.SkySense',
        arch='tiny',
        modalities=('hr', 's2', 's1'),
        geo_context=True,
        max_dates=dict(s2=8, s1=6),
        hr=dict(in_channels=4),
        up_head=dict(scale=1),  # HR 8x finer than Sentinel: 192/32 = 24/4 = 6 cells
        geo=dict(num_prototypes=8, n_lat=4, n_lon=8)),
    head=dict(out_channels=1024, hidden_channels=256, bottleneck_channels=64),
    loss=dict(student_temp=0.1, teacher_temp=0.04, center_momentum=0.9),
    align=dict(temperature=0.1, max_pixels=512),
    num_clusters=4,
    max_pairs=64,
    alpha=1.0,
    beta=1.0,
    base_momentum=0.01,
    end_momentum=0.0,
    prototype=dict(momentum=0.9),
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor',
                           normalize={{_base_.normalize}}))

max_iters = 150
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(max_norm=3.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=15),
    dict(type='CosineAnnealingLR', T_max=max_iters - 15, eta_min=1e-5, by_epoch=False,
         begin=15, end=max_iters),
    # weight decay 0.04 -> 0.2 over the run (paper Sec. 4.1)
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min=0.2,
         T_max=max_iters, by_epoch=False, begin=0, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=50, max_keep_ckpts=2))
_probe = dict(type='eofm.MultiModalDataset', data_root={{_base_.data_root}},
              pipeline={{_base_.test_pipeline}})
custom_hooks = [
    dict(type='eofm.TeacherEMAHook'),
    # every training tile labels the probes, in stratified fractions down to one
    # tile per class, and every validation tile scores them (`make demo` generates
    # 72 + 96: with 24 validation tiles, as in the default generation, a tile-level
    # 95 % interval spans about +-0.16); the land-cover map is a generated
    # 128 x 128 px scene through scene inference (32 px windows, as the probes'
    # tiles, overlapping by 8)
    dict(type='eofm.PretrainReportHook', num_classes=5, max_samples=96,
         fractions=(0.05, 0.25, 0.5, 1.0),
         scene=dict(size=128, region=0, seed=0, tile=32, overlap=8),
         probe_train=dict(_probe, ann_file='train.json'),
         probe_val=dict(_probe, ann_file='val.json')),
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# Each rank draws its own augmentations and pairs (seed + rank), as mmpretrain's
# self-supervised recipes do, so N processes see N different draws per step;
# the exact-resume hook the runner set-up adds saves every rank's RNG state.
randomness = dict(seed=0, deterministic=False, diff_rank_seed=True)

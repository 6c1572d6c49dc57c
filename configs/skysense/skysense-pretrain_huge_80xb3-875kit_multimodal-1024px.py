# SkySense pretraining at the paper's scale (Sec. 4.1, supp. J): Swin V2-H + two
# ViT-L + 24-layer fusion + 4096 x 100 geo prototypes (2.08B parameters), batch 240
# over 80 A100-80GB (3 per GPU), 875k iterations, AdamW with warm-up then cosine,
# weight decay 0.04 -> 0.2, 20 Sentinel-2 and 10 Sentinel-1 dates, multi-crop HR.
#   tools/dist_train.sh configs/skysense/pretrain_80xa100.py 8            # one node
#   NNODES=10 NODE_RANK=k MASTER_ADDR=... tools/dist_train.sh \
#       configs/skysense/pretrain_80xa100.py 8                             # 80 GPUs
# (pretrain_80xa100.py, the short name in the commands above, is a thin alias of this
# file.)
#
# Memory. Student, teacher, gradients and AdamW states in fp32 are
# 2.08B x (4 + 4 + 4 + 8) B = 41.6 GB: plain DDP replicates them on every GPU, which
# with activations does not fit 80 GB. FSDP (MMEngine's FSDPStrategy, FULL_SHARD)
# shards them over the 80 GPUs: 0.52 GB per GPU, plus one gathered wrap unit at a
# time (the largest is the 4096 x 100 x 1024 prototype bank, 0.84 GB in bf16).
# Activations with checkpointing in every encoder and fusion layer and bf16
# autocast, per sample and global view (HR 1024 px, 20 + 10 dates of 32 px, fusion
# grid 32 x 32): fusion 24 layer inputs of 31 tokens x 1024 cells x 1024 ch x 2 B =
# 1.6 GB, Swin V2-H block inputs 0.35 GB, ViT-L 0.1 GB, up-head outputs 30 x 2816 x
# 32 x 32 x 2 B = 0.17 GB, plus one recomputed layer (< 0.3 GB): about 2.5 GB; two
# global views (student and teacher without stored activations for the teacher)
# and two 512 px local views (about 0.6 GB each) for 3 samples: about 19 GB, plus
# the MGCL heads' logits (max_pairs x dates x 16384 x 4 B x 2 views, 0.25 GB) and
# the CUDA context: about 22 GB per GPU. This is arithmetic from the module sizes
# printed by tools/analysis_tools/count_params.py --arch huge and the shapes above,
# not a measurement (no GPU was available when the config was written); check it
# with tools/analysis_tools/benchmark_skysense.py on one GPU first.
_base_ = ['../_base_/default_runtime_eofm.py']

data_root = 'data/skysense_pretrain/'
s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
load = dict(
    type='eofm.LoadMultiModalTiles',
    reference='hr',
    modalities=dict(
        hr=dict(scale='uint8'),
        s2=dict(bands=s2_bands, scale='reflectance'),
        s2_scl=dict(bands=['SCL'], resample='nearest', required=False),
        s1=dict(bands=['VV', 'VH'], scale='db')))
global_view = [
    dict(
        type='eofm.AlignedRandomResizedCrop',
        size=1024,
        scale=(0.4, 1.0),
        reference='hr'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.RandomColorJitter', prob=0.8),
    dict(type='eofm.DateJitter', modalities=['s2', 's1'], max_shift=5),
]
local_view = [
    dict(
        type='eofm.AlignedRandomResizedCrop',
        size=512,
        scale=(0.05, 0.4),
        reference='hr'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.RandomColorJitter', prob=0.8),
    dict(type='eofm.RandomGaussianBlur', prob=0.5),
]
train_pipeline = [
    load,
    dict(
        type='eofm.FilterCloudyDates',
        modality='s2',
        cloud_key='s2_scl',
        max_cloud_fraction=0.5,
        min_dates=20),
    dict(type='eofm.TemporalSample', lengths=dict(s2=20, s1=10)),
    dict(
        type='eofm.MultiModalMultiView',
        transforms=[
            global_view + [dict(type='eofm.RandomGaussianBlur', prob=1.0)],
            global_view + [
                dict(type='eofm.RandomGaussianBlur', prob=0.1),
                dict(type='eofm.RandomSolarize', prob=0.2)
            ], local_view
        ],
        num_views=[1, 1, 2]),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
train_dataloader = dict(
    batch_size=3,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type='eofm.MultiModalDataset',
        data_root=data_root,
        ann_file='train.json',
        pipeline=train_pipeline))

model = dict(
    type='eofm.SkySensePretrainer',
    backbone=dict(
        type='eofm.SkySense',
        arch='huge',
        modalities=('hr', 's2', 's1'),
        geo_context=True,
        max_dates=dict(s2=20, s1=10),
        with_cp=True,
        up_head=dict(scale=4),  # HR 1024 px / 32 = 32 = (32 px Sentinel / 4) x 4
        hr=dict(drop_path_rate=0.2),
        geo=dict(num_prototypes=100, n_lat=64, n_lon=64)),
    head=dict(out_channels=16384, hidden_channels=2048, bottleneck_channels=256),
    loss=dict(student_temp=0.1, teacher_temp=0.04, center_momentum=0.9),
    align=dict(temperature=0.1, max_pixels=1024),
    num_clusters=8,
    max_pairs=256,
    alpha=1.0,
    beta=1.0,
    base_momentum=0.004,  # DINO's teacher momentum 0.996 -> 1
    end_momentum=0.0,
    prototype=dict(momentum=0.99),
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor'))

max_iters = 875000
warmup_iters = 10000
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        auto_wrap_policy=dict(type='eofm.skysense_block_wrap_policy'),
        use_orig_params=True),
    state_dict_cfg='full')
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(
        type='AdamW', lr=5e-4 * 240 / 256, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(max_norm=3.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters - warmup_iters,
        eta_min=1e-6,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
    dict(
        type='CosineAnnealingParamScheduler',
        param_name='weight_decay',
        eta_min=0.2,
        T_max=max_iters,
        by_epoch=False,
        begin=0,
        end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=240)
custom_hooks = [
    dict(type='eofm.TeacherEMAHook'),  # after each iteration, outside FSDP's forward
]

# Each rank draws its own augmentations, crops and pairs, as in the hosts'
# self-supervised recipes; resume restores every rank's own RNG state.
randomness = dict(seed=0, deterministic=False, diff_rank_seed=True)

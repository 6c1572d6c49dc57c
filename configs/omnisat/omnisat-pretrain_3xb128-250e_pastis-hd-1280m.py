# OmniSat self-supervised pretraining on PASTIS-HD (Astruc et al., ECCV 2024,
# Sec. 3.2-3.4, 4.2): the encoder at the paper's size (eofm.OmniSat 'pastis_hd', the
# reference's Omni_Pastis.yaml: d = 256, 6 self-attention blocks + 1 cross block, 16
# heads; 40 m patches of the 1280 m tiles, 32 x 32 = 1024 patches; 10,348,864
# parameters, the pretraining model 12,366,867) on the SPOT 6-7 image (1 m, 40 x 40 px
# per patch), the Sentinel-2 and the ascending Sentinel-1 series (up to 50 dates; the
# 4 x 4 px of a patch flattened into the L-TAE input and reconstructed as C x 16
# values, the reference's LTAE2dPastis / ReconstructionMaskLossSentinelPastis) of the
# training folds 1-3, without labels. Masked multimodal reconstruction (ratio 0.75,
# masked tokens replaced by a learned token; the image index-bypass decoder;
# Sentinel decoders on the top 25 % L-TAE dates) + MIL-NCE (tau 0.1), weights 1:1;
# Adam, lr 1e-4, up to 250 epochs (paper). The paper's ReduceLROnPlateau monitors a
# validation loss that eofm's pretraining loop does not compute: the rate is constant.
# Assumed: batch 3 GPUs x 128 tiles (the paper's statement for all experiments; lower
# train_dataloader.batch_size to fit a 1024-patch tile in memory). Dates are days of
# year (T = 367) where the reference counts days since 2018-09-01 (T = 734).
# Data: configs/_base_/datasets/pastis_hd_multilabel.py. Fine-tune with
# omnisat-mm_linear_3xb128-200e_pastis-hd-1280m.py.
_base_ = [
    '../_base_/datasets/pastis_hd_multilabel.py',
    '../_base_/default_runtime_eofm.py',
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=_base_.pretrain_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

model = dict(
    type='eofm.OmniSatPretrainer',
    backbone=dict(type='eofm.OmniSat', arch='pastis_hd', modalities=tuple(_base_.used)),
    mask_ratio=0.75,
    date_threshold=0.25,
    contrastive=dict(type='eofm.MILNCELoss', tau=0.1),
    reconstruction_weight=1.0,
    contrastive_weight=1.0,
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', normalize=_base_.normalize_used))

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=250)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=True, interval=10, max_keep_ckpts=3, save_last=True))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(base_batch_size=384)

# Each rank draws its own augmentations, crops and pairs, as in the hosts'
# self-supervised recipes; resume restores every rank's own RNG state.
randomness = dict(seed=0, deterministic=False, diff_rank_seed=True)

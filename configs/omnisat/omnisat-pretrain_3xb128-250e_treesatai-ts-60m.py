# OmniSat self-supervised pretraining on TreeSatAI-TS (Astruc et al., ECCV 2024,
# Sec. 3.2-3.4): the encoder at the paper's size (eofm.OmniSat 'treesatai_ts': d =
# 256, 6 self-attention blocks + 1 cross block, 16 heads; 9,839,040 parameters; the
# pretraining model 11,808,976) on the aerial image (0.2 m, 50 x 50 px per 10 m
# patch), the Sentinel-2 and the ascending Sentinel-1 series (up to 50 dates) of the
# 60 m tiles, 6 x 6 patches. Masked multimodal reconstruction (ratio 0.75, masked
# tokens replaced by a learned token; the aerial index-bypass decoder; Sentinel
# decoders on the top 25 % L-TAE dates) + MIL-NCE (tau 0.1), weights 1:1; Adam, lr
# 1e-4, 3 GPUs x 128 tiles, up to 250 epochs on the training split without labels.
# The paper's ReduceLROnPlateau (patience 10, factor 0.1) monitors the validation
# loss, which eofm's pretraining loop does not compute: the rate is constant here.
# Fine-tune with omnisat-mm_linear_3xb128-200e_treesatai-ts-60m.py.
_base_ = [
    '../_base_/datasets/treesatai_ts_60m.py',
    '../_base_/default_runtime_eofm.py',
]
# The 60 m tile, dates and statistics: configs/_base_/datasets/treesatai_ts_60m.py.
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

model = dict(
    type='eofm.OmniSatPretrainer',
    backbone=dict(
        type='eofm.OmniSat', arch='treesatai_ts', modalities=tuple(_base_.used)),
    mask_ratio=0.75,
    date_threshold=0.25,
    contrastive=dict(type='eofm.MILNCELoss', tau=0.1),
    reconstruction_weight=1.0,
    contrastive_weight=1.0,
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', normalize=_base_.normalize))

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

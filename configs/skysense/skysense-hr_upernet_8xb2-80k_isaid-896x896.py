# iSAID semantic segmentation with SkySense's HR encoder (paper Table 2a: UperNet on
# iSAID, mIoU 70.91; setup Table J13 (i) and the release's config): Swin Transformer
# V2-H (eofm.SkySenseSwinV2, arch 'huge') with multi-scale outputs [352, 704, 1408,
# 2816], a UPerHead and an auxiliary FCNHead on stage 3; 896 x 896 crops, 80k
# iterations on 8 GPUs x 2 images, sliding-window test over the large images.
# Drop path 0.2 as the release's config (Table J13 lists 0.3 for every segmentation
# setup).
#
# Data: 896 px patches made by tools/dataset_converters/isaid.py, laid out as
# described in configs/_base_/datasets/isaid.py (data/isaid/{img_dir,ann_dir}/...).
# Weights: put the release file skysense_model_backbone_hr.pth (keys under
# `backbone.`; = skysense_swin_huge_ghr.pth) at checkpoints/ or change `checkpoint`
# below; the backbone's init_cfg loads it strictly (only the fresh output norms of
# stages 0-2 stay as initialised).
_base_ = [
    '../_base_/models/skysense-hr_upernet.py',
    '../_base_/datasets/isaid.py',
    '../_base_/default_runtime_mmseg.py',
]
crop_size = (896, 896)
num_classes = 16  # 15 iSAID classes + background

data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(img_size=crop_size[0]),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(512, 512)))

train_dataloader = dict(batch_size=2, num_workers=4)
val_dataloader = dict(batch_size=1, num_workers=4)
test_dataloader = val_dataloader

# AdamW with layer-wise lr decay 0.9 over the Swin V2 blocks
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500, end=80000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# 8 GPUs x 2 images; `--auto-scale-lr` rescales lr for another total batch size
auto_scale_lr = dict(enable=False, base_batch_size=16)

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
    '../_base_/schedules/skysense-seg_adamw-ld0.9_poly-80k.py',
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

# 8 GPUs x 2 images; `--auto-scale-lr` rescales lr for another total batch size
auto_scale_lr = dict(enable=False, base_batch_size=16)

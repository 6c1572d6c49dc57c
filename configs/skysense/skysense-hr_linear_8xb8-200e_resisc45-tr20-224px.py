# NWPU-RESISC45 scene classification, TR 20 %: SkySense's HR encoder fine-tuned with
# a linear classifier. Paper: Table 3, RESISC-45 OA 96.32 (TR 20 %). Everything else
# as the TR 10 % config it inherits (skysense-hr_linear_8xb8-200e_resisc45-tr10-
# 224px.py; weights at checkpoints/skysense_swin_huge_ghr.pth).
# Data: data/nwpu_resisc45/NWPU-RESISC45/<class>/*.jpg and
# data/nwpu_resisc45/splits/tr20/{train,test}.txt from
#   python tools/dataset_converters/scene_splits.py \
#       data/nwpu_resisc45/NWPU-RESISC45 --dataset nwpu_resisc45
_base_ = ['./skysense-hr_linear_8xb8-200e_resisc45-tr10-224px.py']

train_dataloader = dict(dataset=dict(ann_file='splits/tr20/train.txt'))
val_dataloader = dict(dataset=dict(ann_file='splits/tr20/test.txt'))
test_dataloader = val_dataloader

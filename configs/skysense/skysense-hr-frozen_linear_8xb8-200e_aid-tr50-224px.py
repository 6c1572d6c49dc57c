# AID scene classification, TR 50 %, with SkySense's HR encoder frozen (only the
# linear classifier trains). Paper: Table B6, AID OA 95.85 (TR 50 %). Everything else
# as the frozen TR 20 % config it inherits (skysense-hr-frozen_linear_8xb8-200e_aid-
# tr20-224px.py; weights at checkpoints/skysense_swin_huge_ghr.pth).
# Data: data/aid/AID/<Class>/*.jpg and data/aid/splits/tr50/{train,test}.txt from
#   python tools/dataset_converters/scene_splits.py data/aid/AID --dataset aid
_base_ = ['./skysense-hr-frozen_linear_8xb8-200e_aid-tr20-224px.py']

train_dataloader = dict(dataset=dict(ann_file='splits/tr50/train.txt'))
val_dataloader = dict(dataset=dict(ann_file='splits/tr50/test.txt'))
test_dataloader = val_dataloader

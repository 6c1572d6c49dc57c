# AID scene classification, TR 50 %: SkySense's HR encoder fine-tuned with a linear
# classifier. Paper: Table 3, AID OA 98.60 (TR 50 %). Everything else as the TR 20 %
# config it inherits (skysense-hr_linear_8xb8-200e_aid-tr20-224px.py: Table J13 (iii)
# setup, model, weights at checkpoints/skysense_swin_huge_ghr.pth).
# Data: data/aid/AID/<Class>/*.jpg and data/aid/splits/tr50/{train,test}.txt from
#   python tools/dataset_converters/scene_splits.py data/aid/AID --dataset aid
_base_ = ['./skysense-hr_linear_8xb8-200e_aid-tr20-224px.py']

train_dataloader = dict(dataset=dict(ann_file='splits/tr50/train.txt'))
val_dataloader = dict(dataset=dict(ann_file='splits/tr50/test.txt'))
test_dataloader = val_dataloader

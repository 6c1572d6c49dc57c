# NWPU-RESISC45 scene classification, 10 % of each class for training (TR 10 %),
# SkySense's HR encoder fine-tuned with a linear classifier.
# Paper: Table 3, RESISC-45 OA 94.85 (TR 10 %); TR 20 %: skysense-hr_linear_8xb8-200e_
# resisc45-tr20-224px.py (96.32). Table J13 (iii) gives RESISC-45 the setup of AID
# (AdamW, lr 6.25e-5, wd 0.05, batch 64, 200 epochs, cosine after a 5-epoch warm-up
# from 0.01 x lr, drop path 0.2, 224 px RGB, RandomCrop + RandomErasing, linear
# classifier, cross-entropy), so this config inherits the AID TR 20 % one
# (skysense-hr_linear_8xb8-200e_aid-tr20-224px.py: model, pipelines, the choices the
# paper leaves open) and swaps the dataset and the 45-class head. The 256 px images
# go through the same ResizeEdge 256 + RandomCrop 224 (test: CenterCrop 224).
#
# Data (configs/_base_/datasets/nwpu_resisc45.py): data/nwpu_resisc45/NWPU-RESISC45/
# <class>/*.jpg as the archive extracts, and the split lists written by
#   python tools/dataset_converters/scene_splits.py \
#       data/nwpu_resisc45/NWPU-RESISC45 --dataset nwpu_resisc45
# (data/nwpu_resisc45/splits/tr10/... and tr20/...).
# Weights: checkpoints/skysense_swin_huge_ghr.pth (keys under `backbone.`).
_base_ = ['./skysense-hr_linear_8xb8-200e_aid-tr20-224px.py']

dataset_type = 'eofm.NWPURESISC45'
data_root = 'data/nwpu_resisc45/'
data_preprocessor = dict(num_classes=45)
_split = dict(
    type=dataset_type, data_root=data_root, data_prefix=dict(img_path='NWPU-RESISC45'))
train_dataloader = dict(dataset=dict(_split, ann_file='splits/tr10/train.txt'))
val_dataloader = dict(dataset=dict(_split, ann_file='splits/tr10/test.txt'))
test_dataloader = val_dataloader

model = dict(head=dict(num_classes=45))

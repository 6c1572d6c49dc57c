# AID scene classification, TR 20 %, with SkySense's HR encoder frozen: only the
# linear classifier trains (frozen-backbone tuning, supplementary B).
# Paper: Table B6, AID OA 94.07 (TR 20 %); TR 50 %: skysense-hr-frozen_linear_8xb8-
# 200e_aid-tr50-224px.py (95.85). Supplementary B keeps the heads and settings of the
# main experiment (Sec. K, Table J13 (iii)), so this config inherits the fine-tuning
# one (skysense-hr_linear_8xb8-200e_aid-tr20-224px.py: data, pipelines, AdamW lr
# 6.25e-5, wd 0.05, batch 64, 200 epochs, warm-up + cosine) and freezes the encoder:
# frozen_stages=3 puts the patch embedding, the four stages and the output norm in
# eval mode without gradients (so drop path is off). Without backbone parameters to
# train, the layer-wise lr decay of the fine-tuning config is dropped (plain AdamW on
# the head).
# Data: data/aid/AID/<Class>/*.jpg and data/aid/splits/tr20/{train,test}.txt from
#   python tools/dataset_converters/scene_splits.py data/aid/AID --dataset aid
# Weights: checkpoints/skysense_swin_huge_ghr.pth (keys under `backbone.`).
_base_ = ['./skysense-hr_linear_8xb8-200e_aid-tr20-224px.py']

model = dict(backbone=dict(frozen_stages=3, drop_path_rate=0.0))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6.25e-5, betas=(0.9, 0.999), weight_decay=0.05))

# DIOR with SkySense's HR encoder frozen (paper supplementary Table B6: frozen
# backbone, Faster R-CNN on DIOR, mAP50 72.54):
# skysense-hr_faster-rcnn_fpn_8xb1-12e_dior-800x800.py with every Swin V2-H stage
# frozen (frozen_stages=3: patch embedding, the four stages and their output norms
# keep the release weights and take no gradient); the FPN, RPN and RoI heads train.
# Data and weights as the base.
_base_ = ['./skysense-hr_faster-rcnn_fpn_8xb1-12e_dior-800x800.py']
model = dict(backbone=dict(frozen_stages=3, drop_path_rate=0.0))

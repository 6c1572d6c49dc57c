# BigEarthNet S1 + S2 with msGFM on 1 % of the training split.
# Paper: Han et al., CVPR 2024, Table 12, fine-tuning method 2 (stacked channels,
# this config) mAP 80.8 (method 1, concatenated features, also 80.8: set
# model.backbone.mode='concat_features' and model.head.in_channels=2048); Tables 5 / 6
# (100-epoch pretraining ablations): 80.9 (from scratch) / 80.5 (MoE + cross-sensor).
# Setup, model and data: msgfm_linear_8xb32-100e_bigearthnet-s1s2-192px.py; the
# training list is splits/train_1pct.csv (tools/dataset_converters/
# sample_fraction.py, seed 0).
_base_ = ['./msgfm_linear_8xb32-100e_bigearthnet-s1s2-192px.py']
label_fraction = 1
train_dataloader = dict(dataset=dict(split_file='splits/train_1pct.csv'))

# BigEarthNet Sentinel-2 alone with msGFM on 1 % of the training split.
# Paper: Han et al., CVPR 2024: Fig. 4 shows the single-sensor inputs on 10 % BEN as a
# figure only; no number to reproduce for this setting.
# Setup: msgfm_linear_8xb32-100e_bigearthnet-s2-192px.py; training list
# splits/train_1pct.csv (tools/dataset_converters/sample_fraction.py, seed 0).
_base_ = ['./msgfm_linear_8xb32-100e_bigearthnet-s2-192px.py']
label_fraction = 1
train_dataloader = dict(dataset=dict(split_file='splits/train_1pct.csv'))

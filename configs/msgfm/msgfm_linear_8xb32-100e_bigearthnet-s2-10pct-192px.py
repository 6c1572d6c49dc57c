# BigEarthNet Sentinel-2 alone with msGFM on 10 % of the training split.
# Paper: Han et al., CVPR 2024, Sec. 4.3 / Fig. 4: 86.8 mAP with the Sentinel-2
# modality only (10 % BEN, the setting of Fig. 4).
# Setup: msgfm_linear_8xb32-100e_bigearthnet-s2-192px.py; training list
# splits/train_10pct.csv (tools/dataset_converters/sample_fraction.py, seed 0).
_base_ = ['./msgfm_linear_8xb32-100e_bigearthnet-s2-192px.py']
label_fraction = 10
train_dataloader = dict(dataset=dict(split_file='splits/train_10pct.csv'))

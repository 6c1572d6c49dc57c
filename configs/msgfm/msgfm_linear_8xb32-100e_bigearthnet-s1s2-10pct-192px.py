# BigEarthNet S1 + S2 with msGFM on 10 % of the training split.
# Paper: Han et al., CVPR 2024, Table 3, msGFM: mAP 87.5 (10 % BEN). Fig. 4 / Table 9
# (GeoPile-2 pretraining, 10 % BEN: 87.7) and Tables 5 / 6 (100-epoch pretraining
# ablations) use the same fraction.
# Setup, model and data: msgfm_linear_8xb32-100e_bigearthnet-s1s2-192px.py; the
# training list is splits/train_10pct.csv (tools/dataset_converters/
# sample_fraction.py, seed 0).
_base_ = ['./msgfm_linear_8xb32-100e_bigearthnet-s1s2-192px.py']
label_fraction = 10
train_dataloader = dict(dataset=dict(split_file='splits/train_10pct.csv'))

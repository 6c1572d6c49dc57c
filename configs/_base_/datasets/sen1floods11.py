# Sen1Floods11, hand-labelled split (Bonafilia et al., CVPR Workshops 2020): water /
# not water segmentation of 446 chips of 512 x 512 px at 10 m (5120 m) over 11 flood
# events, from a Sentinel-1 GRD image (VV, VH in dB) and a Sentinel-2 L1C image (13
# bands).
# Expected layout under data_root (the release's v1.1 folder):
#   v1.1/data/flood_events/HandLabeled/S1Hand/<Country>_<id>_S1Hand.tif
#   v1.1/data/flood_events/HandLabeled/S2Hand/<Country>_<id>_S2Hand.tif
#   v1.1/data/flood_events/HandLabeled/LabelHand/<Country>_<id>_LabelHand.tif
#       (int16: -1 no data, 0 not water, 1 water)
#   v1.1/splits/flood_handlabeled/flood_{train,valid,test}_data.csv
# Both images are one-date series (the series projectors of multi-temporal models
# need a day of year). The file names carry no acquisition date: every chip gets
# `default_date` (a placeholder) unless `event_dates` gives the dates of its event
# (Country -> 'YYYY-MM-DD' or dict(s1=..., s2=...); see eofm.datasets.sen1floods11).
dataset_type = 'eofm.Sen1Floods11'
data_root = 'data/sen1floods11/'
s2_bands = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12']
s1_bands = ['VV', 'VH']
event_dates = None
default_date = '2019-01-01'  # placeholder acquisition date of every chip
# Label value -> class: 0 not water, 1 water; -1 (no data) and anything else -> 255.
label_lut = [0, 1]
ignore_index = 255
# Recompute them with: python tools/analysis_tools/dataset_stats.py <this file>
# PLACEHOLDER statistics, to recompute on the Sen1Floods11 training chips:
# Sentinel-2 L1C (DN / 10000, the ten bands above) and Sentinel-1 VV, VH (dB) are
# those of SEN12MS (same products; configs/_base_/datasets/sen12ms.py);
# `normalize_s1_with_ratio` adds the VV - VH (dB) channel of eofm.AppendBandRatio
# (mode='difference') with PASTIS-R's ascending-orbit statistics (pastis_r.py).
normalize = dict(
    s2=dict(
        mean=[
            v / 1e4 for v in (1226.4215, 1137.3799, 1139.6792, 1350.9973, 1932.9058,
                              2211.1584, 2154.9846, 2409.1128, 2001.8622, 1356.0801)
        ],
        std=[
            v / 1e4 for v in (741.6254, 740.883, 960.1045, 946.76056, 985.52747,
                              1082.4341, 1057.7628, 1136.1942, 1132.7898, 991.48016)
        ]),
    s1=dict(mean=[-11.76858, -18.294598], std=[4.525339, 4.3586307]))
normalize_s1_with_ratio = dict(
    mean=[-11.76858, -18.294598, 6.41751], std=[4.525339, 4.3586307, 3.34211])

load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        s2=dict(bands=s2_bands, scale='reflectance'),
        s1=dict(bands=s1_bands, scale='none')),
    reference='s1',
    label_maps=dict(gt_seg_map=dict(like='s1')))
remap = dict(
    type='eofm.RemapLabelMap', key='gt_seg_map', lut=label_lut, default=ignore_index)
train_pipeline = [
    load,
    remap,
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
test_pipeline = [
    load,
    remap,
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
dataset_args = dict(
    type=dataset_type,
    data_root=data_root,
    event_dates=event_dates,
    default_date=default_date)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(dataset_args, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(dataset_args, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(dataset_args, split='test', pipeline=test_pipeline))

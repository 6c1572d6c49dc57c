# So2Sat LCZ42 (Zhu et al., IEEE GRSM 2020): local climate zone classification (17
# classes) of 32 x 32 px Sentinel-1 / Sentinel-2 patches at 10 m (320 m).
# Expected layout under data_root (eofm/datasets/so2sat.py):
#   training.h5, validation.h5, testing.h5   each with datasets
#       sen1 (N, 32, 32, 8)  float64: VH re, VH im, VV re, VV im (unfiltered SLC),
#                            Lee-filtered VH and VV intensities (linear), Lee-filtered
#                            covariance off-diagonal re, im
#       sen2 (N, 32, 32, 10) float64: B2 B3 B4 B5 B6 B7 B8 B8A B11 B12, reflectance
#                            (DN / 1e4 already)
#       label (N, 17)        one-hot
# A sample is one index of N, read alone. No dates in the files: both modalities are
# one-date series on the placeholder date 2017-07-01 (dataset argument `date`).
#
# Sentinel-1 for AnySat's 3-channel 's1' projector: the Lee-filtered VV and VH
# intensities in dB and their ratio in dB (VV - VH), the (VV, VH, VV/VH) dB layout
# of PASTIS-R that the projector was pretrained on.
dataset_type = 'eofm.So2SatLCZ42'
data_root = 'data/so2sat/'
s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
# Recompute them with: python tools/analysis_tools/dataset_stats.py <this file>
# PLACEHOLDERS, to recompute on training.h5: S2 from the SEN12MS statistics (global
# Sentinel-2 L1C, as So2Sat; DN / 1e4, see sen12ms.py), S1 (VV dB, VH dB, VV - VH dB)
# from the PASTIS-R ascending-orbit statistics of the release (see pastis_r.py).
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
    s1=dict(mean=[-10.93095, -17.34851, 6.41751], std=[3.28597, 3.21295, 3.34211]))

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            s2=dict(bands=s2_bands, scale='none'),
            s1=dict(bands=['VV_lee', 'VH_lee'], scale='db')),
        reference='s2'),
    dict(
        type='eofm.AppendBandRatio',
        modality='s1',
        numerator=0,
        denominator=1,
        mode='difference'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))

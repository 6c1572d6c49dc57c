# BigEarthNet-MM v1.0: BigEarthNet-S2 plus the matching Sentinel-1 patch (VV, VH in
# dB, 120 x 120 px at 10 m), 19-class multi-label classification.
# Expected layout under data_root: that of bigearthnet_s2.py, plus
#   BigEarthNet-S1-v1.0/<S1 patch>/<S1 patch>_VV.tif, _VH.tif,
#                                  <S1 patch>_labels_metadata.json
# and split CSVs pairing the patches ("<S2 patch>,<S1 patch>" per line, the splits of
# the BigEarthNet-MM 19-class model repository).
_base_ = ['./bigearthnet_s2.py']

dataset_type = 'eofm.BigEarthNetMM'
# Sentinel-1 statistics of BigEarthNet-MM (dB); merged with the S2 ones of the base.
normalize = dict(
    s1=dict(
        mean=[-12.619993741972035, -19.29044597721542],
        std=[5.115911777546365, 5.464428464912864]))

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            s2=dict(bands=_base_.s2_bands, scale='reflectance'),
            s1=dict(bands=['VV', 'VH'], scale='none')),
        reference='s2'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
train_dataloader = dict(dataset=dict(type=dataset_type, pipeline=pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, pipeline=pipeline))
test_dataloader = dict(dataset=dict(type=dataset_type, pipeline=pipeline))

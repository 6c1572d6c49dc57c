# TreeSatAI-TS (Astruc et al., OmniSat, ECCV 2024): TreeSatAI's aerial tiles with the
# year's Sentinel-2 and Sentinel-1 series (6 x 6 px at 10 m). Official layout under
# data_root:
#   aerial/<tile>.tif
#   sentinel-ts/<tile stem>_<year>.h5   sen-2-data (T, 10, 6, 6), sen-2-masks (snow
#       and cloud probability, in the samples as `s2_cloud`), sen-2-products,
#       sen-1-asc-data / sen-1-des-data (T, 2, 6, 6: VV, VH) and their -products
#   labels/TreeSatBA_v9_60m_multi_labels.json
#   train_filenames.lst, val_filenames.lst, test_filenames.lst
# The series are read on the aerial footprint (reference='aerial'); Sentinel-1 is
# used as stored. Labels as TreeSatAI (see treesatai.py); evaluators are left to the
# task configs.
_base_ = ['./treesatai.py']
dataset_type = 'eofm.TreeSatAITS'
data_root = 'data/treesatai_ts/'

# Dates per series: at most 50 (OmniSat); shorter series are padded.
num_dates = 50
modalities = dict(
    aerial=dict(scale='uint8'),
    s2=dict(scale='reflectance'),
    s1_asc=dict(),
    s1_des=dict())
lengths = dict(s2=num_dates, s1_asc=num_dates, s1_des=num_dates)
packed = ['aerial', 's2', 's1_asc', 's1_des']
train_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='aerial', modalities=modalities),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=packed),
]
test_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='aerial', modalities=modalities),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=packed),
]

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))

# PASTIS (Sainte Fare Garnot & Landrieu, ICCV 2021): semantic segmentation of crop
# parcels from Sentinel-2 series (128 x 128 px at 10 m). Official layout under
# data_root:
#   metadata.geojson                 ID_PATCH, Fold (1-5), dates-S2, patch geometry
#   DATA_S2/S2_{id}.npy              (T, 10, 128, 128) L2A reflectance x 1e4
#   ANNOTATIONS/TARGET_{id}.npy      channel 0: 0 background, 1-18 crops, 19 void
#   INSTANCE_ANNOTATIONS/INSTANCES_{id}.npy   parcel ids (panoptic: build the
#       dataset with with_instances=True and add eofm.LoadPASTISInstances)
# Folds 1-3 train, 4 validate, 5 test (rotate them for the 5-fold protocol).
# Evaluators are left to the task configs (e.g. mmseg's IoUMetric ignoring the void
# class 19).
dataset_type = 'eofm.PASTIS'
data_root = 'data/pastis/'

# Dates per series: at most 50 (OmniSat / AnySat); shorter series are padded.
num_dates = 50

train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(s2=dict(scale='reflectance')),
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(s2=dict(scale='reflectance')),
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]

# Fold-1 statistics of the release (NORM_S2_patch.json), divided by 1e4 to match
# the reflectance scaling; for MultiModalDataPreprocessor(normalize=normalize).
normalize = dict(
    s2=dict(
        mean=[
            0.11659, 0.13757, 0.14292, 0.17648, 0.27193, 0.30636, 0.32059, 0.33191,
            0.24229, 0.16394
        ],
        std=[
            0.19426, 0.18819, 0.19594, 0.18672, 0.17546, 0.17694, 0.17849, 0.17677,
            0.14590, 0.12993
        ]))

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[1, 2, 3],
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, folds=[4], pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, folds=[5], pipeline=test_pipeline))

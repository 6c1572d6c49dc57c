# DynamicEarthNet (Toker et al., CVPR 2022): monthly land-cover segmentation (7
# classes) of 1024 x 1024 px areas at 3 m from daily Planet Fusion images, with
# monthly Sentinel-2 / Sentinel-1 composites. Official layout under data_root:
#   dynnet_training_splits/{train,val,test}.txt  "<planet folder> <label> <YYYY-MM>"
#   planet/<zone>/<cube>/<area>/PF-SR/YYYY-MM-DD.tif   B, G, R, NIR (x 1e4)
#   sentinel2/<area folder>/..._YYYY_MM.tif, sentinel1/<area folder>/..._YYYY_MM.tif
#   labels/<area>_<zone>/Labels/Raster/<name>/<name>-YYYY_MM_01.tif  one band per
#       class (255 = class), read as the modality `labels` and turned into
#       gt_seg_map by eofm.OneHotToSegMap (255 where no class is set)
# Planet days: the official 'weekly' setting (days 01, 05, 10, 15, 20, 25); use
# planet_days='daily' for every image of the month. The dynnet baselines ignore
# class 6 (snow & ice). Evaluators are left to the task configs (mmseg's IoUMetric
# with ignore_index=255, or the dataset's SCS metric).
dataset_type = 'eofm.DynamicEarthNet'
data_root = 'data/dynamic_earthnet/'

modalities = dict(
    planet=dict(bands=['R', 'G', 'B', 'NIR'], scale='reflectance'),
    s2=dict(scale='reflectance', required=False),
    s1=dict(required=False),
    labels=dict(resample='nearest'))
packed = ['planet', 's2', 's1']
train_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='planet', modalities=modalities),
    dict(type='eofm.OneHotToSegMap', key='labels', ignore_index=255),
    dict(type='eofm.TemporalSample', lengths=dict(planet=6, s2=1, s1=1), mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=packed),
]
test_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='planet', modalities=modalities),
    dict(type='eofm.OneHotToSegMap', key='labels', ignore_index=255),
    dict(type='eofm.TemporalSample', lengths=dict(planet=6, s2=1, s1=1), mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=packed),
]

# Planet statistics of the dynnet baselines (R, G, B, NIR), divided by 1e4 to match
# the reflectance scaling; for MultiModalDataPreprocessor(normalize=normalize).
normalize = dict(
    planet=dict(
        mean=[0.10426, 0.09156, 0.06713, 0.26052],
        std=[0.09580, 0.07155, 0.05969, 0.10599]))

train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        planet_days='weekly',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        planet_days='weekly',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        planet_days='weekly',
        pipeline=test_pipeline))

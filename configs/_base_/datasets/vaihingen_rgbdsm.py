# ISPRS Vaihingen with its DSM: 6-class semantic segmentation of 9 cm IRRG true
# orthophotos + DSM heights (eofm.VaihingenRGBDSM).
# Expected layout under data_root (the ISPRS archives, extracted):
#   top/top_mosaic_09cm_area<N>.tif                         IRRG, uint8
#   dsm/dsm_09cm_matching_area<N>.tif                       heights (m), float32
#   ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE/
#       top_mosaic_09cm_area<N>.tif                         colour-coded labels
#   ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE/
#       top_mosaic_09cm_area<N>_noBoundary.tif              boundaries eroded (black)
# Splits: the contest's 16 training and 17 test areas (mmsegmentation's train / val).
# Training reads 512 px windows every 256 px (mmsegmentation's converter), testing
# non-overlapping 512 px windows (the last row / column shifted to the edge) scored
# against the eroded ground truth, boundaries ignored (as mmsegmentation's
# Vaihingen). Classes: impervious surface, building, low vegetation, tree, car,
# clutter; colours that are none of them -> 255 (ignored).
dataset_type = 'eofm.VaihingenRGBDSM'
data_root = 'data/vaihingen/'
gt_full = 'ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE'
gt_eroded = 'ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE'
crop_size = (512, 512)

_load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        irrg=dict(scale='uint8'),
        dsm=dict(scale='none'),
        gt_rgb=dict(scale='none', resample='nearest')),
    reference='irrg')
train_pipeline = [
    _load,
    dict(type='eofm.RGBLabelToIndex', key='gt_rgb', out_key='gt_seg_map'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', 'vertical')),
    dict(type='eofm.PackMultiModalInputs', modalities=['irrg', 'dsm']),
]
test_pipeline = [
    _load,
    dict(type='eofm.RGBLabelToIndex', key='gt_rgb', out_key='gt_seg_map'),
    dict(type='eofm.PackMultiModalInputs', modalities=['irrg', 'dsm']),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        gt_dir=gt_full,
        tile_size=crop_size[0],
        tile_stride=crop_size[0] // 2,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        gt_dir=gt_eroded,
        gt_suffix='_noBoundary',
        tile_size=crop_size[0],
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

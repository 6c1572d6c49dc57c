# TreeSatAI (Ahlswede et al., ESSD 2023): multi-label classification of 15 tree
# genera on 60 m patches of colour-infrared aerial imagery (0.2 m, 304 x 304 px,
# 8-bit NIR, G, B, R). Official layout under data_root:
#   aerial/60m/<tile>.tif            (the per-species aerial_60m_*.zip, extracted)
#   s1/60m/<tile>.tif, s2/60m/<tile>.tif   single Sentinel-1 / Sentinel-2 images
#       (in the samples as `s1` / `s2`; add them to `modalities` to use them)
#   labels/TreeSatBA_v9_60m_multi_labels.json   tile -> [[genus, proportion], ...]
#   train_filenames.lst, test_filenames.lst
# Labels: gt_labels (genera with a proportion above 0.07, multi-hot) and gt_label
# (species from the file name). There is no official validation split: validation
# uses the test split here. The release gives no aerial statistics. Evaluators are
# left to the task configs (mmpretrain's multi-label AveragePrecision / F1).
dataset_type = 'eofm.TreeSatAI'
data_root = 'data/treesatai/'

pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=dict(aerial=dict(scale='uint8'))),
    dict(type='eofm.PackMultiModalInputs', modalities=['aerial']),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
test_dataloader = val_dataloader

# TreeSatAI-TS as OmniSat and AnySat read it (their reference configs): the 60 m tile
# is 300 px of the aerial image at 0.2 m (the release's images are 304 px; the crop
# keeps 300 px on the 10 m grid of the series) and 6 x 6 px of the Sentinel-2 and
# ascending Sentinel-1 series, 50 dates each (random in training, evenly spread in
# testing); the genus multi-label targets (with_species=False); AnySat's statistics.
# Layout: configs/_base_/datasets/treesatai_ts.py.
_base_ = ['./treesatai_ts.py']

used = ['aerial', 's2', 's1_asc']
load = dict(
    type='eofm.LoadMultiModalTiles',
    reference='aerial',
    modalities=dict(aerial=dict(gsd=0.2), s2=dict(), s1_asc=dict()))
crop = dict(type='eofm.AlignedRandomCrop', size=300, reference='aerial')
num_dates = 50
train_sample = dict(
    type='eofm.TemporalSample',
    lengths=dict(s2=num_dates, s1_asc=num_dates),
    mode='random')
test_sample = dict(
    type='eofm.TemporalSample',
    lengths=dict(s2=num_dates, s1_asc=num_dates),
    mode='even')
train_pipeline = [
    load, train_sample, crop,
    dict(type='eofm.PackMultiModalInputs', modalities=used)
]
test_pipeline = [
    load, test_sample, crop,
    dict(type='eofm.PackMultiModalInputs', modalities=used)
]
# AnySat's TreeSatAI-TS statistics (raw digital numbers); Sentinel-1 as stored.
normalize = dict(
    aerial=dict(
        mean=[150.8935, 92.7139, 84.8544, 80.7042],
        std=[36.7649, 27.6250, 22.4795, 26.7337]),
    s2=dict(
        mean=[
            4304.33, 4159.27, 4057.78, 4328.95, 4571.22, 4644.87, 4837.25, 4700.26,
            2823.26, 2319.97
        ],
        std=[
            3538.00, 3324.23, 3270.07, 3250.53, 2897.39, 2754.50, 2821.52, 2625.95,
            1731.56, 1549.30
        ]))

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(with_species=False, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(with_species=False, pipeline=test_pipeline))
test_dataloader = val_dataloader

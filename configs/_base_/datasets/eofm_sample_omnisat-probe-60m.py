# eofm's sample data as OmniSat's CPU pretraining reads it
# (configs/omnisat/omnisat-pretrain_small_1xb4-100it_eofm-sample-60m.py), for the
# frozen-encoder probes (tools/analysis_tools/probe.py --dataset): the centred 60 m
# of each tile (the model's 6 x 6 grid of 10 m patches; HR read at 0.3125 m), 8
# Sentinel-2 and 6 Sentinel-1 dates spread over the year, no augmentation,
# land-cover labels per Sentinel-2 pixel. The tile's label (gt_label) is the whole
# tile's majority class, not the crop's: probe the pixel level only (--levels pixel).
_base_ = ['./eofm_sample.py']
hr_gsd = 0.3125
probe_pipeline = [
    dict(type='eofm.LoadMultiModalTiles',
         modalities=dict(
             hr=dict(scale='uint8', gsd=hr_gsd),
             s2=dict(bands={{_base_.s2_bands}}, scale='reflectance'),
             s1=dict(bands=['VV', 'VH'], scale='db')),
         reference='hr', label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6), mode='even'),
    dict(type='eofm.AlignedCenterCrop', size=int(60 / hr_gsd), reference='hr'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
train_dataloader = dict(dataset=dict(pipeline=probe_pipeline))
val_dataloader = dict(dataset=dict(pipeline=probe_pipeline))
test_dataloader = val_dataloader

# eofm's sample data as msGFM's CPU pretraining reads it
# (configs/msgfm/msgfm-pretrain_swin-tiny_1xb4-100it_eofm-sample-192px.py), for the
# frozen-encoder probes (tools/analysis_tools/probe.py --dataset): whole tiles
# (256 px HR at 1.25 m, Sentinel-2 / Sentinel-1 at 2.5 m, their first valid date),
# no augmentation, land-cover labels per Sentinel-2 pixel.
_base_ = ['./eofm_sample.py']
probe_pipeline = [
    dict(type='eofm.LoadMultiModalTiles',
         modalities=dict(
             hr=dict(scale='uint8'),
             s2=dict(bands={{_base_.s2_bands}}, scale='reflectance', gsd=2.5),
             s1=dict(bands=['VV', 'VH'], scale='db', gsd=2.5)),
         reference='hr', label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=dict(s2=1, s1=1), mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
train_dataloader = dict(dataset=dict(pipeline=probe_pipeline))
val_dataloader = dict(dataset=dict(pipeline=probe_pipeline))
test_dataloader = val_dataloader

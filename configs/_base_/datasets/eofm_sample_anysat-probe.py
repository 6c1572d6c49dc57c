# eofm's sample data as AnySat's CPU JEPA pretraining reads it
# (configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py), for the
# frozen-encoder probes (tools/analysis_tools/probe.py --dataset): whole tiles (320 m:
# 16 x 16 patches of 20 m; AnySat takes any tile size), 6 Sentinel-2 and 4
# Sentinel-1 dates spread over the year, no augmentation, land-cover labels per
# Sentinel-2 pixel.
_base_ = ['./eofm_sample.py']
probe_pipeline = [
    {{_base_.load}},  # the sample data's modalities at their own pixel sizes
    dict(type='eofm.TemporalSample', lengths=dict(s2=6, s1=4), mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
train_dataloader = dict(dataset=dict(pipeline=probe_pipeline))
val_dataloader = dict(dataset=dict(pipeline=probe_pipeline))
test_dataloader = val_dataloader

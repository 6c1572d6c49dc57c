# DynamicEarthNet-MM with the attentional geo-context integration (paper Table 4a
# (vi): Planet + S2 + S1 with geo-context prototypes, mIoU 48.2; setup Table J14 (i)):
# skysense_upernet_4xb2-6k_dynamicearthnet-mm-1024x1024.py with geo_context=True, so
# the fused map is [F_fus^mm, geo-context] (2048 channels) from each tile's lon/lat.
# The release has no geo-context prototypes: with the merged release file they start
# from their initialisation and are trained here (geo.trainable); with a backbone
# from eofm's pretraining (tools/model_converters/skysense_teacher.py) set
# trainable=False to keep the learned prototypes fixed, as the paper does.
_base_ = ['./skysense_upernet_4xb2-6k_dynamicearthnet-mm-1024x1024.py']
fused_channels = 2048
model = dict(
    backbone=dict(geo_context=True, geo=dict(trainable=True)),
    decode_head=dict(in_channels=[352, 704, 1408, 2816, fused_channels]))

# iSAID with SkySense's HR encoder frozen (paper supplementary Table B6: frozen
# backbone, UperNet on iSAID, mIoU 65.40): skysense-hr_upernet_8xb2-80k_isaid-896x896.py
# with every Swin V2-H stage frozen (frozen_stages=3: patch embedding, the four
# stages and their output norms keep the release weights and take no gradient);
# only the UPerHead and the auxiliary FCNHead train. Data and weights as the base.
_base_ = ['./skysense-hr_upernet_8xb2-80k_isaid-896x896.py']
model = dict(backbone=dict(frozen_stages=3, drop_path_rate=0.0))

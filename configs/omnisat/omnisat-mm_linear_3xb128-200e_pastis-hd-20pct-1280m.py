# OmniSat fine-tuning on PASTIS-HD with 20 % of the training labels (paper Sec. 4.2,
# "semi-supervised fine-tuning"). The paper's subsets are stratified by the class
# distribution and not released (the reference's PASTIS loader has no partition
# argument); here a seeded random 20 % of the training tiles (folds 1-3): mmpretrain's
# KFoldDataset, one fold of five (test_mode=True, seed 0), not stratified.
# Paper, Table 3 (macro F1, 20 % labels, pretrained): All 62.6, S1 60.8, S2 61.8,
# VHR 54.6. For a uni-modal run, wrap the dataset the same way in the uni-modal
# configs.
_base_ = ['./omnisat-mm_linear_3xb128-200e_pastis-hd-1280m.py']
label_fraction = 20
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KFoldDataset',
        dataset={{_base_.train_dataloader.dataset}},
        fold=0,
        num_splits=100 // label_fraction,
        test_mode=True,
        seed=0))

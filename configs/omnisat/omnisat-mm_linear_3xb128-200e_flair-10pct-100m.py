# OmniSat fine-tuning on FLAIR #2 with 10 % of the training labels (paper Sec. 4.2,
# "semi-supervised fine-tuning"). The paper's subsets are stratified by the class
# distribution (the reference: iterative multi-label stratification of the training
# patches) and not released; here a seeded random 10 % of the training patches:
# mmpretrain's KFoldDataset, one fold of ten (test_mode=True, seed 0), not
# stratified.
# Paper, Table 4 (macro F1, 10 % labels, pretrained): All 60.6, S2 56.8, VHR 65.2.
_base_ = ['./omnisat-mm_linear_3xb128-200e_flair-100m.py']
label_fraction = 10
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KFoldDataset',
        dataset={{_base_.train_dataloader.dataset}},
        fold=0,
        num_splits=100 // label_fraction,
        test_mode=True,
        seed=0))

# OmniSat fine-tuning on TreeSatAI-TS with 10 % of the training labels (paper Sec. 4.2,
# "semi-supervised fine-tuning"; the paper's subsets are stratified by class and not
# released: this reads train_filenames_10pct.lst, a seeded random subset written by
# python tools/dataset_converters/sample_fraction.py
# data/treesatai_ts/train_filenames.lst --fractions 0.1).
# Paper, Table 2 (weighted F1, 10 % labels, pretrained): All 61.1, S1 48.2, S2 51.4,
# VHR 58.3.
_base_ = ['./omnisat-mm_linear_3xb128-200e_treesatai-ts-60m.py']
label_fraction = 10
train_dataloader = dict(
    dataset=dict(split_file=f'train_filenames_{label_fraction}pct.lst'))

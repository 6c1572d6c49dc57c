# NWPU-RESISC45 scene classification, 45 classes (mmpretrain; 'mmpretrain' scope).
# Expects the official folder-per-class layout and split lists:
#   data/nwpu_resisc45/NWPU-RESISC45/<class>/*.jpg   (as the archive extracts)
#   data/nwpu_resisc45/splits/tr{10,20}/{train,test}.txt  (10 % / 20 % of each class)
# written by `python tools/dataset_converters/scene_splits.py
#   data/nwpu_resisc45/NWPU-RESISC45 --dataset nwpu_resisc45`.
# The 10 % protocol is used below; set ann_file='' to read every image of the class
# folders. eofm.NWPURESISC45 is mmpretrain's CustomDataset with its 45 classes;
# pipelines mirror mmpretrain's ImageNet config.
# Everything else as AID (aid.py).
_base_ = ['./aid.py']
dataset_type = 'eofm.NWPURESISC45'
data_root = 'data/nwpu_resisc45/'
data_preprocessor = dict(num_classes=45)
_split = dict(type=dataset_type, data_root=data_root,
              data_prefix=dict(img_path='NWPU-RESISC45'))
train_dataloader = dict(dataset=dict(_split, ann_file='splits/tr10/train.txt'))
val_dataloader = dict(dataset=dict(_split, ann_file='splits/tr10/test.txt'))
test_dataloader = val_dataloader

# The short name of SkySense's paper-scale pretraining, kept because it is the name
# users type (tools/dist_train.sh configs/skysense/pretrain_80xa100.py 8): a thin
# alias of the config under the OpenMMLab naming scheme, which holds everything,
# the per-GPU memory estimate included.
_base_ = ['./skysense-pretrain_huge_80xb3-875kit_multimodal-1024px.py']

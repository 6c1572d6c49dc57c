# The paper-scale SkySense pretraining under OpenMMLab's naming scheme; see
# pretrain_80xa100.py for the memory estimate and the launch commands.
_base_ = ['./pretrain_80xa100.py']

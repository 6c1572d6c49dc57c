"""An MLP multi-label classification head for mmpretrain's ``ImageClassifier``.

mmpretrain 1.2 has a linear multi-label head (``MultiLabelLinearClsHead``) and a
stacked-linear head for single-label classification (``StackedLinearClsHead``), but
no MLP head for multi-label targets: this one. With ``norm='bn'`` it is the MLP of
OmniSat's fine-tuning network for a non-empty ``inter_dim`` (``Linear -> BatchNorm1d
-> Dropout -> ReLU`` per hidden layer; dropout and ReLU commute), ``Fine`` in
``src/models/networks/Fine_tuning.py`` of the reference (MIT).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import MultiLabelClsHead

from eofm.registry import MODELS

__all__ = ['MultiLabelMLPClsHead']


@MODELS.register_module()
class MultiLabelMLPClsHead(MultiLabelClsHead):
    """``[Linear -> (norm) -> act -> Dropout] x len(hidden_channels) -> Linear``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Input feature width.
        hidden_channels (Sequence[int]): Widths of the hidden layers; empty gives a
            linear head. Default ``(256, )``.
        dropout (float): Dropout after each hidden layer. Default 0.2.
        norm (str, optional): ``'bn'`` (BatchNorm1d), ``'ln'`` (LayerNorm) or None
            after each hidden linear layer. Default None.
        act (str): ``'relu'`` or ``'gelu'``. Default ``'relu'``.
        loss (dict): mmpretrain loss config. Default sigmoid cross-entropy.
        **kwargs: ``thr``, ``topk``, ``init_cfg`` of mmpretrain's
            ``MultiLabelClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 hidden_channels: Sequence[int] = (256, ),
                 dropout: float = 0.2,
                 norm: Optional[str] = None,
                 act: str = 'relu',
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', use_sigmoid=True),
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', layer='Linear', std=0.02),
                 **kwargs):
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'MultiLabelMLPClsHead: num_classes={num_classes} must be '
                             'positive')
        if norm not in (None, 'bn', 'ln'):
            raise ValueError(f"MultiLabelMLPClsHead: norm must be None, 'bn' or 'ln', "
                             f'got {norm!r}')
        if act not in ('relu', 'gelu'):
            raise ValueError(f"MultiLabelMLPClsHead: act must be 'relu' or 'gelu', got "
                             f'{act!r}')
        self.num_classes, self.in_channels = num_classes, in_channels
        layers = []
        width = in_channels
        for hidden in hidden_channels:
            layers.append(nn.Linear(width, hidden))
            if norm == 'bn':
                layers.append(nn.BatchNorm1d(hidden))
            elif norm == 'ln':
                layers.append(nn.LayerNorm(hidden))
            layers.append(nn.ReLU(inplace=True) if act == 'relu' else nn.GELU())
            layers.append(nn.Dropout(dropout))
            width = hidden
        self.mlp = nn.Sequential(*layers)
        self.fc = nn.Linear(width, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The hidden features of the last stage's (B, C) features."""
        return self.mlp(feats[-1])

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.pre_logits(feats))

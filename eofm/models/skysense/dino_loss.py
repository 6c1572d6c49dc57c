"""The contrastive loss L_CL of SkySense's Multi-Granularity Contrastive Learning."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size

from eofm.registry import MODELS

__all__ = ['DINOLoss']


@MODELS.register_module()
class DINOLoss(nn.Module):
    """Cross-entropy between a sharpened, centred teacher and the student (DINO).

    ``L_CL(f, f') = - sum_k softmax((h'(f') - c) / tau_t)_k log softmax(h(f) / tau_s)_k``
    averaged over the given pairs (paper Eq. 5-7 use it at pixel, object and image
    level). The centre ``c`` of each named stream is an EMA of the teacher's mean
    logits (averaged over data-parallel ranks), which keeps the teacher from
    collapsing to one dimension.

    Args:
        out_channels (int): Number of logits K.
        streams (Sequence[str]): Names of the centred streams (one centre each,
            e.g. ``hr.pix``, ``fus.img``).
        student_temp (float): tau_s (0.1).
        teacher_temp (float): tau_t (0.04).
        center_momentum (float): EMA momentum of the centres (0.9).
    """

    def __init__(self,
                 out_channels,
                 streams,
                 student_temp=0.1,
                 teacher_temp=0.04,
                 center_momentum=0.9):
        super().__init__()
        self.student_temp, self.teacher_temp = student_temp, teacher_temp
        self.center_momentum = center_momentum
        self.streams = list(streams)
        self.register_buffer('centers', torch.zeros(len(self.streams), out_channels))

    def forward(self, student, teacher, stream, weight=None):
        """Mean loss over pairs; ``student``/``teacher`` are (..., K) logits.

        Args:
            weight (Tensor, optional): (...,) weights of the pairs (e.g. 0 for
                padded dates); the mean is taken over their sum.
        """
        i = self.streams.index(stream)
        t = F.softmax(
            (teacher.detach().float() - self.centers[i]) / self.teacher_temp, dim=-1)
        log_s = F.log_softmax(student.float() / self.student_temp, dim=-1)
        loss = -(t * log_s).sum(-1)
        if weight is None:
            out = loss.mean()
        else:
            out = (loss * weight).sum() / weight.sum().clamp_min(1e-6)
        if self.training:
            self._update_center(i,
                                teacher.detach().float().reshape(-1, teacher.shape[-1]))
        return out

    @torch.no_grad()
    def _update_center(self, i, teacher):
        mean = teacher.mean(0)
        if get_world_size() > 1:
            all_reduce(mean, op='mean')
        self.centers[i].mul_(self.center_momentum).add_(
            mean, alpha=1 - self.center_momentum)

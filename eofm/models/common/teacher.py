"""The start of an EMA teacher (target encoder) shared by the self-distillation
algorithms (SkySense's MGCL teacher, AnySat's JEPA target encoder)."""
import torch

__all__ = ['EMATeacherMixin']


class EMATeacherMixin:
    """``init_weights`` that initialises the student, then makes the teacher an
    exact copy of it (its EMA step counter reset), as BYOL / DINO / I-JEPA start.

    The class using it holds ``self.teacher`` (an ``mmengine`` EMA wrapper with a
    ``steps`` buffer) and defines :meth:`update_teacher` (one EMA step, which copies
    the student when ``steps`` is 0).
    """

    def init_weights(self):
        super().init_weights()
        with torch.no_grad():
            self.teacher.steps.zero_()
            self.update_teacher()  # the first update copies the student

    def update_teacher(self):
        raise NotImplementedError

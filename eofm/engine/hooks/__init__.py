from .exact_resume_hook import ExactResumeHook
from .teacher_ema_hook import TeacherEMAHook

__all__ = ['ExactResumeHook', 'TeacherEMAHook']

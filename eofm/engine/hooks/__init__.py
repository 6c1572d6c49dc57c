from .exact_resume_hook import ExactResumeHook
from .pretrain_report_hook import PretrainReportHook
from .teacher_ema_hook import TeacherEMAHook

__all__ = ['ExactResumeHook', 'PretrainReportHook', 'TeacherEMAHook']

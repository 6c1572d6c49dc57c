from .exact_resume_hook import ExactResumeHook
from .pretrain_report_hook import PretrainReportHook

__all__ = ['ExactResumeHook', 'PretrainReportHook']

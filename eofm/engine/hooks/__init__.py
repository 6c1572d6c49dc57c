from .data_contract_hook import DataContractHook, data_contract
from .exact_resume_hook import ExactResumeHook
from .teacher_ema_hook import TeacherEMAHook

__all__ = ['DataContractHook', 'data_contract', 'ExactResumeHook', 'TeacherEMAHook']

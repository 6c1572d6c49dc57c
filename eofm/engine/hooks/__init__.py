from .exact_resume_hook import ExactResumeHook

__all__ = ['ExactResumeHook']

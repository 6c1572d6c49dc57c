"""Build large models without memory for their weights (parameter counts, FLOPs)."""
import contextlib

import torch
import torch.nn as nn

__all__ = ['empty_weights']


@contextlib.contextmanager
def empty_weights():
    """Inside this context, parameters and buffers move to the meta device as
    they are registered.

    ``with torch.device('meta')`` is not enough for the host libraries: their
    constructors call ``.item()`` on tensors (mmpretrain's drop-path schedules),
    which meta tensors cannot do. Here only registered tensors go to meta, one at a
    time, so building the 2B-parameter SkySense needs about the memory of its
    largest single tensor.
    """
    register_parameter = nn.Module.register_parameter
    register_buffer = nn.Module.register_buffer

    def to_meta_parameter(module, name, param):
        register_parameter(module, name, param)
        if param is not None and param.device.type != 'meta':
            module._parameters[name] = nn.Parameter(
                param.detach().to('meta'), requires_grad=param.requires_grad)

    def to_meta_buffer(module, name, buffer, persistent=True):
        if buffer is not None:
            buffer = buffer.to('meta')
        register_buffer(module, name, buffer, persistent=persistent)

    nn.Module.register_parameter = to_meta_parameter
    nn.Module.register_buffer = to_meta_buffer
    try:
        yield
    finally:
        nn.Module.register_parameter = register_parameter
        nn.Module.register_buffer = register_buffer

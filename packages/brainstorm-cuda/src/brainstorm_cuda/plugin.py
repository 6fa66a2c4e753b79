"""Entry point of the brainstorm-cuda plugin: registers the PyCudaHandler.

Registering imports no GPU library; pycuda and nvmath-python are imported
when a ``PyCudaHandler`` is created, which raises
:class:`brainstorm_cuda.CudaUnavailableError` where they, the driver, a GPU
or nvcc are missing.
"""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_handlers():
    from brainstorm_cuda.handler import PyCudaHandler
    return [PyCudaHandler]

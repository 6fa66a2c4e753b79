"""brainstorm-cuda: the PyCudaHandler, brainstorm's handler for NVIDIA GPUs.

::

    from brainstorm.handlers import PyCudaHandler
    net.set_handler(PyCudaHandler())

The handler computes in float32 on the GPU: memory and CUDA kernels through
pycuda, matrix products through cuBLAS (nvmath-python). These come with the
``gpu`` extra (``pip install 'brainstorm-cuda[gpu]'``) and are imported only
when a handler is created; without them, or without the NVIDIA driver, a GPU
or nvcc, ``PyCudaHandler()`` raises :class:`CudaUnavailableError` saying
what is missing. :func:`is_available` tells beforehand.
"""
import importlib.metadata as _metadata

from brainstorm_cuda.backend import CudaUnavailableError, is_available
from brainstorm_cuda.handler import PyCudaHandler

__all__ = ['PyCudaHandler', 'CudaUnavailableError', 'is_available']

try:
    __version__ = _metadata.version('brainstorm-cuda')
except _metadata.PackageNotFoundError:  # pragma: no cover
    __version__ = '0+unknown'

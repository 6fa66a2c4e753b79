"""brainstorm-mpi: data-parallel training on MPI.

Start the same command or script on N processes with an MPI launcher::

    mpiexec -n 4 brainstorm train ...
    mpiexec -n 4 python examples/mnist_pi.py

and ``bs.Trainer`` trains one network with all of them: each process runs
its share of every batch, and the gradients are averaged over the
processes before every update (``brainstorm.distributed``). Without a
launcher nothing changes. Importing this package does not start MPI.
"""
import importlib.metadata as _metadata

from brainstorm_mpi.communicator import MpiCommunicator, launcher_size

__all__ = ['MpiCommunicator', 'launcher_size']

try:
    __version__ = _metadata.version('brainstorm-mpi')
except _metadata.PackageNotFoundError:  # pragma: no cover
    __version__ = '0+unknown'

"""The MpiCommunicator: brainstorm.distributed's protocol over mpi4py."""
import os
import sys
import threading

import numpy as np

from brainstorm.distributed import DISTRIBUTED_ENV_VAR, Communicator

__all__ = ['MpiCommunicator', 'launcher_size']

# Variables through which MPI launchers tell a process the number of ranks:
# MPICH's and Intel MPI's hydra and Slurm's srun (PMI), Open MPI, MVAPICH.
SIZE_VARIABLES = ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE', 'MV2_COMM_WORLD_SIZE')


def launcher_size():
    """The number of ranks an MPI launcher started this process among (1
    where no launcher set one of ``SIZE_VARIABLES``)."""
    for name in SIZE_VARIABLES:
        value = os.environ.get(name, '').strip()
        if value.isdigit():
            return int(value)
    return 1


class MpiCommunicator(Communicator):
    """The ranks of an MPI job (``MPI.COMM_WORLD``, or the communicator
    given), for data-parallel training with ``bs.Trainer``.

    ``brainstorm.distributed.world()`` creates it when this process was
    started by an MPI launcher with more than one rank
    (:meth:`launched`), or when ``BRAINSTORM_DISTRIBUTED=mpi`` asks for it
    (for a launcher whose variables it does not know). Creating it
    initialises MPI (``from mpi4py import MPI``) and makes an uncaught
    exception on this rank end the whole job (``MPI_Abort``) after the
    traceback is printed, so that the other ranks do not wait forever in
    a collective operation for a rank that is gone.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        Default: ``MPI.COMM_WORLD``.
    """

    def __init__(self, comm=None):
        from mpi4py import MPI
        self._mpi = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        _abort_on_uncaught_exceptions(self)

    @classmethod
    def launched(cls):
        wanted = os.environ.get(DISTRIBUTED_ENV_VAR, '').strip().lower()
        return wanted == 'mpi' or launcher_size() > 1

    def allreduce(self, array):
        _check_buffer(array, 'allreduce')
        self.comm.Allreduce(self._mpi.IN_PLACE, array, op=self._mpi.SUM)

    def broadcast_array(self, array, root=0):
        _check_buffer(array, 'broadcast_array')
        self.comm.Bcast(array, root=root)

    def broadcast(self, value, root=0):
        return self.comm.bcast(value, root=root)

    def allgather(self, value):
        return self.comm.allgather(value)

    def abort(self, status=1, reason=''):
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        sys.stderr.write('brainstorm-mpi: rank {} of {} failed{}; ending '
                         'all {} ranks of the job\n'.format(
                             self.rank, self.size,
                             ' ({})'.format(reason) if reason else '',
                             self.size))
        sys.stderr.flush()
        self.comm.Abort(int(status) or 1)


def _check_buffer(array, operation):
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        raise TypeError('MpiCommunicator.{}: needs a C-contiguous numpy '
                        'array, got {!r}'.format(operation, type(array)))


_hook_lock = threading.Lock()


def _abort_on_uncaught_exceptions(communicator):
    """Make an uncaught exception print its traceback as usual, then end
    every rank of the job."""
    with _hook_lock:
        if getattr(sys.excepthook, '_brainstorm_mpi', False):
            return
        previous = sys.excepthook

        def excepthook(kind, value, traceback):
            previous(kind, value, traceback)
            reason = kind.__name__ if issubclass(kind, KeyboardInterrupt) \
                else '{}: {}'.format(kind.__name__, value)
            communicator.abort(1, reason)

        excepthook._brainstorm_mpi = True
        sys.excepthook = excepthook

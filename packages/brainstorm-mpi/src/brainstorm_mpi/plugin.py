"""Entry point of the brainstorm-mpi plugin: registers the MpiCommunicator.

Registering does not import mpi4py (nor start MPI); that happens when
``brainstorm.distributed.world()`` finds this process started by an MPI
launcher with several ranks and creates the communicator.
"""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_communicators():
    from brainstorm_mpi.communicator import MpiCommunicator
    return [MpiCommunicator]

"""Entry point of the brainstorm-cuda plugin.

It registers no handler yet: the PyCudaHandler is not written, and nothing
here pretends otherwise.
"""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_handlers():
    return []

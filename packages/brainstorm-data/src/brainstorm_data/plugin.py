"""Entry point of the brainstorm-data plugin."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_data_iterators():
    """The data iterators of brainstorm-data."""
    from brainstorm_data.iterators import Minibatches, Online, Undivided
    return [Online, Minibatches, Undivided]

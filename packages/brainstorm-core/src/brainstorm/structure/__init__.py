"""Network structure: wiring, architectures, layouts, buffers, networks."""
from brainstorm.structure.architecture import (
    generate_architecture, instantiate_layers_from_architecture)
from brainstorm.structure.buffer_structure import (BufferStructure,
                                                   StructureTemplate)
from brainstorm.structure.network import Network

__all__ = ['Network', 'generate_architecture',
           'instantiate_layers_from_architecture', 'BufferStructure',
           'StructureTemplate']

"""The Input layer: where data provided to the network enters it."""
from collections import OrderedDict

from brainstorm.layers.base_layer import Layer
from brainstorm.structure.buffer_structure import BufferStructure

__all__ = ['Input', 'InputLayerImpl']


class InputLayerImpl(Layer):
    """Holds the named data items in its outputs. Every network has exactly
    one, and it is named 'Input'."""

    expected_inputs = {}
    expected_kwargs = {'out_shapes'}

    def setup(self, kwargs, in_shapes):
        out_shapes = kwargs.get('out_shapes')
        if not isinstance(out_shapes, dict) or not out_shapes:
            raise self.error('out_shapes must be a non-empty dict of data '
                             'name -> shape, got {!r}'.format(out_shapes))
        outputs = OrderedDict()
        for data_name, shape in out_shapes.items():
            try:
                outputs[data_name] = BufferStructure.from_tuple(shape)
            except (ValueError, TypeError) as err:
                raise self.error('shape of {!r}: {}'.format(data_name, err))
        return outputs, OrderedDict(), OrderedDict()

    def forward_pass(self, buffers, training_pass=True):
        pass

    def backward_pass(self, buffers):
        pass


def Input(out_shapes):
    """The Input layer (always named 'Input').

    Parameters
    ----------
    out_shapes : dict[str, tuple]
        Name -> shape of every data item the network takes, as shape
        templates (``('T', 'B', 784)``) or just the feature shape
        (``(784,)``, read as ``('T', 'B', 784)``).
    """
    from brainstorm.structure.construction import ConstructionWrapper
    if not isinstance(out_shapes, dict) or not out_shapes:
        raise ValueError('Input(out_shapes): a non-empty dict of data name '
                         '-> shape is required, got {!r}'.format(out_shapes))
    return ConstructionWrapper.create(InputLayerImpl, name='Input',
                                      out_shapes=dict(out_shapes))


Input.impl_class = InputLayerImpl
Input.layer_type = 'Input'

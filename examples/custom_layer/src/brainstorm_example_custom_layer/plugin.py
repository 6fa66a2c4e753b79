"""Entry point of the plugin (``brainstorm-example-custom-layer`` in the
entry-point group ``brainstorm``): the layers it registers."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_layers():
    from brainstorm_example_custom_layer.parametric_relu import \
        ParametricRelu
    return [ParametricRelu]


@hookimpl
def brainstorm_layer_examples():
    """Configurations of the layer for the handler conformance suite of
    brainstorm-core, so that every handler is checked on it too."""
    from brainstorm.testing.conformance import LayerExample
    return [LayerExample('ParametricRelu', {}, {'default': (3, 4)},
                         time_steps=2, batch_size=3)]

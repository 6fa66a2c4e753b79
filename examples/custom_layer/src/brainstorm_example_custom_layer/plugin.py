"""Entry point of the plugin (``brainstorm-example-custom-layer`` in the
entry-point group ``brainstorm``): the layers it registers."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_layers():
    from brainstorm_example_custom_layer.parametric_relu import \
        ParametricRelu
    return [ParametricRelu]

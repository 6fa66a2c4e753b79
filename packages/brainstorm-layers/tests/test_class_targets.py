"""SoftmaxCE refuses targets that are not class indices in [0, K) when the
data is provided (Layer.check_input_data), instead of an IndexError in the
handler or a silently wrong loss (-1 wrapping around to the last class,
2.5 truncated to 2)."""
import re

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler

from brainstorm_layers._targets import check_class_indices


def make_net(classes=10, labels_name='targets', handler=None):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           labels_name: ('T', 'B', 1)})
    out = bs.layers.SoftmaxCE(name='Output')
    inp >> bs.layers.FullyConnected(classes, name='H',
                                    activation='linear') >> out
    inp - labels_name >> 'targets' - out
    out - 'loss' >> bs.layers.Loss()
    net = bs.Network.from_layer(out)
    net.initialize(0.1, seed=1)
    if handler is not None:
        net.set_handler(handler)
    return net


def data(value, index=(0, 3, 0), dtype=np.float32, labels_name='targets'):
    targets = np.zeros((1, 20, 1), dtype=dtype)
    targets[index] = value
    return {'default': np.ones((1, 20, 4), np.float32),
            labels_name: targets}


def expected(shown, index='(0, 3, 0)', name='targets', classes=10):
    return ("data item {!r} holds {} at index {} (of shape (1, 20, 1)), but "
            "SoftmaxCE layer 'Output' takes class indices: integers from 0 "
            "to {} for its {} classes".format(name, shown, index, classes - 1,
                                              classes))


@pytest.mark.parametrize('value, shown', [(-1, '-1.0'), (10, '10.0'),
                                          (2.5, '2.5'), (np.nan, 'NaN'),
                                          (np.inf, 'inf'), (255, '255.0')])
@pytest.mark.parametrize('handler', [None, DebugHandler(NumpyHandler())],
                         ids=['numpy', 'debug'])
def test_bad_class_targets_are_named_at_provide_external_data(value, shown,
                                                              handler):
    net = make_net(handler=handler)
    with pytest.raises(ValueError) as err:
        net.provide_external_data(data(value))
    assert str(err.value) == expected(shown)


def test_integer_targets_and_other_item_names():
    net = make_net(classes=3, labels_name='labels')
    with pytest.raises(ValueError) as err:
        net.provide_external_data(data(7, index=(0, 11, 0), dtype=np.int64,
                                       labels_name='labels'))
    assert str(err.value) == expected('7', '(0, 11, 0)', 'labels', 3)


def test_valid_targets_train():
    net = make_net()
    batch = data(9)
    batch['targets'][0, :10, 0] = np.arange(10)
    net.provide_external_data(batch)
    net.forward_pass()
    assert np.isfinite(net.get_loss_values()['total_loss'])


def test_check_class_indices_reports_the_first_offending_entry():
    class Layer:
        name = 'Out'

        @staticmethod
        def get_layer_type():
            return 'SoftmaxCE'

    targets = np.array([[[1.0], [0.5], [-2.0]]])
    with pytest.raises(ValueError, match=re.escape(
            "data item 'y' holds 0.5 at index (0, 1, 0) (of shape (1, 3, 1))"
            ", but SoftmaxCE layer 'Out' takes class indices: integers from "
            "0 to 1 for its 2 classes")):
        check_class_indices(Layer(), 'y', targets, 2)
    check_class_indices(Layer(), 'y', np.zeros((1, 0, 1)), 2)

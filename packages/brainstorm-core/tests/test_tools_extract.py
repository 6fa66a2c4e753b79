"""Tools that run or inspect a network (manual 8.3): evaluate, extract,
extract_and_save, get_network_info, print_network_info and draw_network,
with brainstorm-core alone (the small layers of brainstorm.testing)."""
import os

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.handlers import NumpyHandler
from brainstorm.scorers import Scorer
from brainstorm.testing.extras import find_program, import_extra
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)
from brainstorm.tools import (draw_network, evaluate, extract,
                              extract_and_save, get_network_info,
                              print_network_info)


@pytest.fixture(autouse=True)
def layers():
    with use_simple_layers():
        yield


class Batches(DataIterator):
    def __init__(self, batches):
        self.batches = batches
        super().__init__({}, len(batches))

    def __call__(self, handler=None):
        yield from self.batches


class Hits(Scorer):
    def __call__(self, true_labels, predicted, mask=None):
        return float(np.mean(np.argmax(predicted, -1) == true_labels[..., 0]))


def make_net():
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1),
                           'static': ('B', 2)})
    out = TestSoftmaxLoss(name='Out')
    inp >> TestAffine(3, name='A') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    net.set_handler(NumpyHandler(np.float64))
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(3).randn(n))
    return net


def make_batches(sizes=(5, 3), T=2, seed=0):
    rnd = np.random.RandomState(seed)
    return [{'default': rnd.randn(T, B, 4),
             'targets': rnd.randint(0, 3, (T, B, 1)).astype(float),
             'static': rnd.randn(B, 2)} for B in sizes]


def joined(batches, name, axis=1):
    return np.concatenate([b[name] for b in batches], axis=axis)


def affine(net, x):
    return x @ net.get('A.parameters.W') + net.get('A.parameters.bias')


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# -- evaluate -----------------------------------------------------------------

def test_evaluate_weighs_batches_by_their_size():
    net = make_net()
    batches = make_batches()
    result = evaluate(net, Batches(batches), [Hits()])
    x, t = joined(batches, 'default'), joined(batches, 'targets')
    p = softmax(affine(net, x))
    assert set(result) == {'total_loss', 'Hits'}
    assert result['Hits'] == pytest.approx(
        np.mean(p.argmax(-1) == t[..., 0]))
    logp = np.log(np.take_along_axis(p, t.astype(int), -1))
    # TestSoftmaxLoss divides by B: the per-sequence mean over all data
    assert result['total_loss'] == pytest.approx(-logp.sum() / 8)


def test_evaluate_takes_a_single_scorer_and_no_scorers():
    net = make_net()
    batches = make_batches()
    both = evaluate(net, Batches(batches), [Hits()])
    assert evaluate(net, Batches(batches), Hits()) == both
    assert evaluate(net, Batches(batches)) == {
        'total_loss': both['total_loss']}


# -- extract ------------------------------------------------------------------

def test_extract_concatenates_batches_along_the_batch_axis():
    net = make_net()
    batches = make_batches()
    result = extract(net, Batches(batches),
                     ['A.outputs.default', 'Out.outputs.predictions',
                      'A.inputs.default', 'Input.outputs.static'])
    assert list(result) == ['A.outputs.default', 'Out.outputs.predictions',
                            'A.inputs.default', 'Input.outputs.static']
    x = joined(batches, 'default')
    assert result['A.inputs.default'].shape == (2, 8, 4)
    assert np.allclose(result['A.inputs.default'], x)
    assert result['A.outputs.default'].shape == (2, 8, 3)
    assert np.allclose(result['A.outputs.default'], affine(net, x))
    assert np.allclose(result['Out.outputs.predictions'],
                       softmax(affine(net, x)))
    # batch-sized data (B, ...) is concatenated along its first axis
    assert result['Input.outputs.static'].shape == (8, 2)
    assert np.allclose(result['Input.outputs.static'],
                       joined(batches, 'static', axis=0))


def test_extract_takes_a_single_name_and_runs_inference_passes():
    net = make_net()
    passes = []
    forward = net.forward_pass
    net.forward_pass = lambda training_pass=False, context=None: (
        passes.append(training_pass), forward(training_pass, context))
    batches = make_batches(sizes=(2, 2, 1))
    result = extract(net, Batches(batches), 'A.outputs.default')
    assert list(result) == ['A.outputs.default']
    assert result['A.outputs.default'].shape == (2, 5, 3)
    assert passes == [False, False, False]


def test_extract_of_no_batches_gives_empty_arrays_of_the_feature_shape():
    result = extract(make_net(), Batches([]),
                     ['A.outputs.default', 'Input.outputs.static'])
    assert result['A.outputs.default'].shape == (0, 0, 3)
    assert result['Input.outputs.static'].shape == (0, 2)


@pytest.mark.parametrize('name', ['A.outputs.nothing', 'B.outputs.default',
                                  'A.outputs', 'A', 'A.weights.W',
                                  'A.outputs.default.x', 'A.outputs.@type'])
def test_extract_names_unknown_buffers(name):
    with pytest.raises(KeyError, match='no buffer {!r}'.format(name)):
        extract(make_net(), Batches(make_batches()), [name])


def test_extract_refuses_buffers_that_do_not_depend_on_the_data():
    with pytest.raises(ValueError, match=r"'A.parameters.W' does not depend "
                                         r"on the data \(shape \(4, 3\)\)"):
        extract(make_net(), Batches(make_batches()), ['A.parameters.W'])


def test_extract_refuses_to_join_batches_of_different_lengths():
    batches = make_batches(T=2) + make_batches(T=3)
    with pytest.raises(ValueError, match=r"'A.outputs.default' with "
                                         r"different numbers of time steps "
                                         r"\(2, 3\)"):
        extract(make_net(), Batches(batches), ['A.outputs.default'])


def without(batches, *names):
    return [{k: v for k, v in b.items() if k not in names} for b in batches]


def test_extract_with_inputs_only_after_targets_were_given():
    """The manual's use: predictions of data without targets, on a network
    that was given targets before; the stale targets are never used."""
    net = make_net()
    batches = make_batches(seed=1)
    net.provide_external_data(batches[0])
    net.forward_pass()
    assert np.isfinite(net.get_loss_values()['total_loss'])
    result = extract(net, Batches(without(batches, 'targets', 'static')),
                     ['Out.outputs.predictions'])
    x = joined(batches, 'default')
    assert np.allclose(result['Out.outputs.predictions'],
                       softmax(affine(net, x)))
    message = ("it needs the input 'targets', which was not in the data "
               "given to provide_external_data (it got 'default')")
    with pytest.raises(ValueError) as info:
        net.get_loss_values()
    assert str(info.value) == (
        "get_loss_values: the last forward pass computed no loss for layer "
        "'Out': " + message + '; provide all inputs (with the targets) to '
        'compute losses')
    with pytest.raises(ValueError) as info:
        net.get('Out.outputs.loss')
    assert str(info.value) == ('Out.outputs.loss was not computed by the '
                               'last forward pass: ' + message)
    with pytest.raises(ValueError, match='Out.internals.logp was not '
                                         'computed'):
        net.get('Out.internals')
    with pytest.raises(ValueError) as info:
        net.get_input('targets')
    assert str(info.value) == (
        "Input.outputs.targets holds no data: the input 'targets' was not in "
        "the data given to provide_external_data (it got 'default')")
    # the live buffers hold NaN, not the targets of the first batch
    assert np.isnan(net.handler.get_numpy_copy(
        net.buffer['Out.outputs.loss'])).all()
    assert np.isnan(net.handler.get_numpy_copy(
        net.buffer['Input.outputs.targets'])).all()


def test_extract_of_a_buffer_that_needs_missing_data_names_it():
    net = make_net()
    with pytest.raises(ValueError, match="Out.internals.logp was not "
                                         "computed by the last forward pass: "
                                         "it needs the input 'targets'"):
        extract(net, Batches(without(make_batches(), 'targets')),
                ['Out.outputs.predictions', 'Out.internals.logp'])


def test_layers_needing_missing_inputs_are_skipped_and_unreadable():
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'side': ('T', 'B', 2),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Out')
    inp >> TestAffine(3, name='A') >> out
    inp - 'targets' >> 'targets' - out
    inp - 'side' >> TestAffine(5, name='S') >> TestAffine(2, name='S2')
    net = bs.Network.from_layer(out)
    net.set_handler(NumpyHandler(np.float64))
    calls = []
    for name in ('S', 'S2'):
        layer = net.layers[name]
        layer.forward_pass = (lambda f, n: lambda *a: (calls.append(n),
                                                        f(*a)))(
            layer.forward_pass, name)
    x = np.ones((1, 2, 4))
    net.provide_external_data({'default': x}, all_inputs=False)
    net.forward_pass()
    assert calls == []
    assert net.get('A.outputs.default').shape == (1, 2, 3)
    assert net.get('Out.outputs.predictions').shape == (1, 2, 3)
    for path, missing in [('S.outputs.default', "'side'"),
                          ('S2.outputs.default', "'side'"),
                          ('Out.outputs.loss', "'targets'")]:
        with pytest.raises(ValueError, match='{} was not computed by the '
                                             'last forward pass: it needs the '
                                             'input {}'.format(path,
                                                               missing)):
            net.get(path)
    # all inputs again: everything is computed and readable
    net.provide_external_data({'default': x, 'side': np.ones((1, 2, 2)),
                               'targets': np.zeros((1, 2, 1))})
    with pytest.raises(ValueError, match='S2.outputs.default was not '
                                         'computed'):
        net.get('S2.outputs.default')    # not before the next forward pass
    net.forward_pass()
    assert calls == ['S', 'S2']
    assert np.isfinite(net.get('S2.outputs.default')).all()
    assert np.isfinite(net.get_loss_values()['total_loss'])


# -- extract_and_save ---------------------------------------------------------

def test_extract_and_save_writes_what_extract_returns(tmp_path):
    net = make_net()
    batches = make_batches(sizes=(5, 3, 4))
    names = ['Out.outputs.predictions', 'A.inputs.default',
             'Input.outputs.static']
    expected = extract(net, Batches(batches), names)
    file_name = tmp_path / 'features.hdf5'
    assert extract_and_save(net, Batches(batches), names,
                            str(file_name)) is None
    with h5py.File(file_name, 'r') as f:
        assert sorted(f) == sorted(names)
        for name in names:
            assert f[name].shape == expected[name].shape
            assert np.allclose(f[name][()], expected[name])
    assert os.listdir(tmp_path) == ['features.hdf5']


def test_extract_and_save_of_no_batches(tmp_path):
    file_name = tmp_path / 'empty.h5'
    extract_and_save(make_net(), Batches([]), ['A.outputs.default'],
                     file_name)
    with h5py.File(file_name, 'r') as f:
        assert f['A.outputs.default'].shape == (0, 0, 3)


def test_extract_and_save_replaces_a_file_only_when_complete(tmp_path):
    file_name = tmp_path / 'features.h5'
    with h5py.File(file_name, 'w') as f:
        f['old'] = np.arange(3)

    class Failing(Batches):
        def __call__(self, handler=None):
            yield self.batches[0]
            raise RuntimeError('the data ran dry')

    with pytest.raises(RuntimeError, match='ran dry'):
        extract_and_save(make_net(), Failing(make_batches()),
                         ['A.outputs.default'], file_name)
    with h5py.File(file_name, 'r') as f:
        assert list(f) == ['old']
    assert os.listdir(tmp_path) == ['features.h5']
    # bad names fail before the file is touched
    with pytest.raises(KeyError):
        extract_and_save(make_net(), Batches(make_batches()), ['A.x.y'],
                         file_name)
    assert os.listdir(tmp_path) == ['features.h5']


def test_extract_and_save_refuses_batches_of_different_lengths(tmp_path):
    batches = make_batches(T=2) + make_batches(T=1)
    with pytest.raises(ValueError, match=r'different numbers of time steps'):
        extract_and_save(make_net(), Batches(batches),
                         ['A.outputs.default'], tmp_path / 'f.h5')
    assert os.listdir(tmp_path) == []


# -- get_network_info / print_network_info ------------------------------------

def test_network_info_lists_shapes_and_parameter_counts():
    net = make_net()
    info = get_network_info(net)
    lines = info.splitlines()
    assert lines[0] == 'Network: 3 layers, 15 parameters'
    assert lines[1] == ('Data: default (T, B, 4), targets (T, B, 1), '
                        'static (B, 2)')
    a = lines.index('A: TestAffine(size=3)')
    assert lines[a + 1:a + 4] == [
        '    inputs      default (T, B, 4) <- Input.outputs.default',
        '    outputs     default (T, B, 3)',
        '    parameters  W (4, 3) 12, bias (3,) 3: 15 parameters']
    out = lines.index('Out: TestSoftmaxLoss')
    assert lines[out + 1:out + 4] == [
        '    inputs      default (T, B, 3) <- A.outputs.default',
        '                targets (T, B, 1) <- Input.outputs.targets',
        '    outputs     predictions (T, B, 3), loss (1,)']
    assert 'parameters' not in lines[out + 4:-1]
    assert 'Input: Input' in lines
    assert lines[-1] == 'Total: 15 parameters'


def test_network_info_counts_with_thousands_separators():
    inp = bs.layers.Input({'default': ('T', 'B', 999)})
    net = bs.Network.from_layer(inp >> TestAffine(1001, name='Big'))
    info = get_network_info(net)
    assert 'W (999, 1001) 999,999, bias (1001,) 1,001: 1,001,000 ' \
           'parameters' in info
    assert info.splitlines()[-1] == 'Total: 1,001,000 parameters'


def test_print_network_info_prints_the_info(capsys):
    net = make_net()
    print_network_info(net)
    assert capsys.readouterr().out == get_network_info(net) + '\n'


# -- draw_network -------------------------------------------------------------

def test_draw_network_without_graphviz_says_what_to_install(monkeypatch,
                                                            tmp_path):
    monkeypatch.setitem(__import__('sys').modules, 'graphviz', None)
    with pytest.raises(ImportError) as info:
        draw_network(make_net(), tmp_path / 'net.png')
    assert 'pip install graphviz' in str(info.value)
    assert '`dot` program' in str(info.value)
    assert os.listdir(tmp_path) == []


def connections(net):
    return [(src, name, out_name, in_name)
            for name, layer in net.layers.items()
            for in_name, (src, out_name) in layer.incoming.items()]


VIZ = 'pip install brainstorm-core[viz]'


def test_draw_network_source_has_every_layer_and_connection(tmp_path):
    graphviz = import_extra('graphviz', VIZ)
    net = make_net()
    graph = draw_network(net, tmp_path / 'net.dot')
    assert isinstance(graph, graphviz.Digraph)
    source = graph.source
    assert (tmp_path / 'net.dot').read_text() == source
    ids = {}
    for i, (name, layer) in enumerate(net.layers.items()):
        ids[name] = 'layer{}'.format(i)
        assert '{} [label="{}\\n{}"]'.format(
            ids[name], name, layer.get_layer_type()) in source
    edges = [line.strip() for line in source.splitlines() if '->' in line
             and line.strip().startswith('layer')]
    assert len(edges) == len(connections(net)) == 3
    assert '{} -> {} [label="(4,)"]'.format(ids['Input'], ids['A']) in edges
    assert '{} -> {} [label="(3,)"]'.format(ids['A'], ids['Out']) in edges
    assert '{} -> {} [label="targets -> targets\\n(1,)"]'.format(
        ids['Input'], ids['Out']) in edges


def test_draw_network_gv_suffix_and_odd_layer_names(tmp_path):
    import_extra('graphviz', VIZ)
    inp = bs.layers.Input({'default': ('T', 'B', 2)})
    net = bs.Network.from_layer(inp >> TestAffine(2, name='a:b "c"'))
    source = draw_network(net, tmp_path / 'net.gv').source
    assert (tmp_path / 'net.gv').read_text() == source
    assert 'layer0 -> layer1' in source
    assert 'a:b \\"c\\"' in source


def test_draw_network_without_dot_says_so(monkeypatch, tmp_path):
    import_extra('graphviz', VIZ)
    monkeypatch.setenv('PATH', str(tmp_path / 'nothing-here'))
    with pytest.raises(RuntimeError, match='Graphviz `dot` program'):
        draw_network(make_net(), tmp_path / 'net.png')
    assert not (tmp_path / 'net.png').exists()


def test_draw_network_renders_a_png(tmp_path, monkeypatch):
    import_extra('graphviz', VIZ)
    find_program('dot', 'install Graphviz (Debian: apt-get install '
                        'graphviz); only the rendering step needs it, the '
                        'DOT source is tested above')
    monkeypatch.chdir(tmp_path)
    draw_network(make_net())
    with open('network.png', 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    draw_network(make_net(), 'net.svg')
    assert '<svg' in (tmp_path / 'net.svg').read_text()

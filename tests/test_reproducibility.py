"""bs.global_rnd.set_seed makes a whole run reproducible: initialisation,
dropout masks and shuffling."""
import numpy as np

import brainstorm as bs
from brainstorm.data_iterators import Minibatches


def run(seed, epochs=2):
    bs.global_rnd.set_seed(seed)
    rnd = np.random.RandomState(0)
    x = rnd.rand(1, 60, 6).astype(np.float32)
    y = rnd.randint(0, 3, (1, 60, 1))
    inp, fc = bs.tools.get_in_out_layers('classification', 6, 3)
    net = bs.Network.from_layer(inp >> bs.layers.Dropout(0.5) >>
                                bs.layers.FullyConnected(8) >> fc)
    net.initialize(bs.initializers.Gaussian(0.1))
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(bs.hooks.StopAfterEpoch(epochs))
    trainer.train(net, Minibatches(7, default=x, targets=y))
    return net.get('parameters'), trainer.logs['rolling_training']


def test_same_seed_same_run():
    p1, logs1 = run(42)
    p2, logs2 = run(42)
    assert np.array_equal(p1, p2)
    assert logs1 == logs2


def test_other_seed_other_run():
    p1, _ = run(42)
    p2, _ = run(43)
    assert not np.array_equal(p1, p2)

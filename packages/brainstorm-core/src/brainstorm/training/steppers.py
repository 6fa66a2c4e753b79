"""Steppers: how the Trainer updates a network's parameters."""
from brainstorm.describable import Describable

__all__ = ['TrainingStepper', 'SgdStepper', 'MomentumStepper',
           'NesterovStepper']


class TrainingStepper(Describable):
    """Base class of steppers.

    ``start(net)`` is called when training starts; every ``run()`` does one
    update: a forward pass (training_pass=True), a backward pass, the
    parameter update, then the network's weight modifiers.
    """

    __undescribed__ = {'net': None, 'updates': 0}

    def __init__(self):
        self.net = None
        self.updates = 0

    def start(self, net):
        self.net = net

    def run(self):
        self.net.forward_pass(training_pass=True)
        self.net.backward_pass()
        self._update()
        self.net.apply_weight_modifiers()
        self.updates += 1

    def _update(self):
        raise NotImplementedError

    def get_state(self):
        """Dynamic state (numpy arrays) for checkpoints."""
        return {}

    def set_state(self, state):
        pass


class SgdStepper(TrainingStepper):
    """Stochastic gradient descent: ``p -= learning_rate * g``."""

    def __init__(self, learning_rate=0.1):
        super().__init__()
        self.learning_rate = learning_rate

    def _update(self):
        h = self.net.handler
        h.mult_add_st(-self.learning_rate, self.net.buffer.gradients,
                      self.net.buffer.parameters)


class MomentumStepper(TrainingStepper):
    """Gradient descent with momentum::

        v = momentum * v - lr * g
        p += v

    With ``scale_learning_rate`` the step is ``(1 - momentum) * lr`` so that
    the size of the steps does not grow with the momentum.
    """

    __undescribed__ = {'velocity': None}

    def __init__(self, learning_rate=0.1, momentum=0.0,
                 scale_learning_rate=True):
        super().__init__()
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.scale_learning_rate = scale_learning_rate
        self.velocity = None

    def start(self, net):
        super().start(net)
        self.velocity = net.handler.zeros(net.buffer.parameters.shape)

    def _effective_rate(self):
        if self.scale_learning_rate:
            return (1.0 - self.momentum) * self.learning_rate
        return self.learning_rate

    def _update(self):
        h = self.net.handler
        h.mult_st(self.momentum, self.velocity, self.velocity)
        h.mult_add_st(-self._effective_rate(), self.net.buffer.gradients,
                      self.velocity)
        h.add_tt(self.velocity, self.net.buffer.parameters,
                 self.net.buffer.parameters)

    def get_state(self):
        if self.velocity is None:
            return {}
        return {'velocity': self.net.handler.get_numpy_copy(self.velocity)}

    def set_state(self, state):
        if 'velocity' in state:
            self.net.handler.set_from_numpy(self.velocity, state['velocity'])


class NesterovStepper(MomentumStepper):
    """Nesterov's accelerated gradient: the gradient is taken after the
    momentum step (``p += momentum * v``), then ``v = momentum * v - lr *
    g`` and ``p -= lr * g``."""

    def run(self):
        h = self.net.handler
        params = self.net.buffer.parameters
        h.mult_st(self.momentum, self.velocity, self.velocity)
        h.add_tt(self.velocity, params, params)
        self.net.forward_pass(training_pass=True)
        self.net.backward_pass()
        rate = -self._effective_rate()
        h.mult_add_st(rate, self.net.buffer.gradients, self.velocity)
        h.mult_add_st(rate, self.net.buffer.gradients, params)
        self.net.apply_weight_modifiers()
        self.updates += 1

"""Steppers: how the Trainer updates a network's parameters."""
import numpy as np

from brainstorm.describable import Describable

__all__ = ['TrainingStepper', 'SgdStepper', 'MomentumStepper',
           'NesterovStepper', 'RmsPropStepper', 'AdamStepper']


class TrainingStepper(Describable):
    """Base class of steppers.

    ``start(net)`` is called when training starts; every ``run()`` does one
    update: a forward pass (training_pass=True), a backward pass, the
    parameter update, then the network's weight modifiers.
    """

    __undescribed__ = {'net': None, 'updates': 0}
    # names of the int counters and of the handler arrays in the state
    _state_counters = ('updates',)
    _state_arrays = ()

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
        """The dynamic state, for checkpoints: a dict of numpy arrays.

        It holds ``'updates'`` (the number of updates done) and what the
        stepper accumulates over updates (a velocity, moving averages ...),
        once ``start`` has been called.
        """
        state = {name: np.array(getattr(self, name), dtype=np.int64)
                 for name in self._state_counters}
        if self.net is not None:
            handler = self.net.handler
            for name in self._state_arrays:
                array = getattr(self, name)
                if array is not None:
                    state[name] = handler.get_numpy_copy(array)
        return state

    def set_state(self, state):
        """Restore what :meth:`get_state` returned.

        Call it after ``start(net)`` (the Trainer does so when it resumes
        from a checkpoint): ``start`` resets the accumulated state.

        Raises
        ------
        ValueError
            If an entry is missing or has the wrong shape.
        """
        name = type(self).__name__
        for key in self._state_counters:
            if key not in state:
                raise ValueError('{}: the state has no {!r} (it has {})'
                                 .format(name, key, sorted(state)))
        if self._state_arrays and self.net is None:
            raise ValueError('{}: call start(net) before set_state'.format(
                name))
        for key in self._state_arrays:
            if key not in state:
                raise ValueError('{}: the state has no {!r} (it has {})'
                                 .format(name, key, sorted(state)))
            target = getattr(self, key)
            value = np.asarray(state[key])
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    '{}: state {!r} has shape {}, but the network needs {}'
                    .format(name, key, tuple(value.shape),
                            tuple(target.shape)))
            self.net.handler.set_from_numpy(target, value)
        for key in self._state_counters:
            setattr(self, key, int(state[key]))

    def _zeros_like_parameters(self):
        return self.net.handler.zeros(self.net.buffer.parameters.shape)


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
    _state_arrays = ('velocity',)

    def __init__(self, learning_rate=0.1, momentum=0.0,
                 scale_learning_rate=True):
        super().__init__()
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.scale_learning_rate = scale_learning_rate
        self.velocity = None

    def start(self, net):
        super().start(net)
        self.velocity = self._zeros_like_parameters()

    def _effective_rate(self):
        if self.scale_learning_rate:
            return (1.0 - self.momentum) * self.learning_rate
        return self.learning_rate

    def _update(self):
        self.net.handler.momentum_update(
            self.velocity, self.net.buffer.gradients,
            self.net.buffer.parameters, self.momentum,
            -self._effective_rate())


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


def _check_fraction(stepper, arg, value):
    if not 0.0 <= value < 1.0:
        raise ValueError('{}: {} must be in [0, 1), got {!r}'.format(
            stepper, arg, value))


def _check_non_negative(stepper, arg, value):
    if not value >= 0.0:
        raise ValueError('{}: {} must be >= 0, got {!r}'.format(
            stepper, arg, value))


class RmsPropStepper(TrainingStepper):
    """RMSProp (Tieleman and Hinton, 2012): the step of each parameter is
    divided by a moving root mean square of its gradients::

        ms = decay * ms + (1 - decay) * g ** 2
        p -= learning_rate * g / (sqrt(ms) + epsilon)

    ``ms`` starts at zero when training starts.

    Parameters
    ----------
    learning_rate : float
        Step size.
    decay : float
        Decay of the moving average of squared gradients, in [0, 1).
    epsilon : float
        Added to the root mean square to avoid divisions by zero (>= 0).
    """

    __undescribed__ = {'mean_square': None, '_scratch': None}
    _state_arrays = ('mean_square',)

    def __init__(self, learning_rate=0.001, decay=0.9, epsilon=1e-8):
        super().__init__()
        _check_fraction('RmsPropStepper', 'decay', decay)
        _check_non_negative('RmsPropStepper', 'epsilon', epsilon)
        self.learning_rate = learning_rate
        self.decay = decay
        self.epsilon = epsilon
        self.mean_square = None
        self._scratch = None

    def start(self, net):
        super().start(net)
        self.mean_square = self._zeros_like_parameters()
        self._scratch = self._zeros_like_parameters()

    def _update(self):
        h = self.net.handler
        grad = self.net.buffer.gradients
        tmp = self._scratch
        h.mult_tt(grad, grad, tmp)
        h.mult_st(self.decay, self.mean_square, self.mean_square)
        h.mult_add_st(1.0 - self.decay, tmp, self.mean_square)
        h.sqrt_t(self.mean_square, tmp)
        h.add_st(self.epsilon, tmp, tmp)
        h.divide_tt(grad, tmp, tmp)
        h.mult_add_st(-self.learning_rate, tmp, self.net.buffer.parameters)


class AdamStepper(TrainingStepper):
    """Adam (Kingma and Ba, 2015): steps from bias-corrected moving
    averages of the gradients and of their squares::

        t += 1
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    ``m``, ``v`` and the update count ``t`` start at zero when training
    starts.

    Parameters
    ----------
    learning_rate : float
        Step size.
    beta1 : float
        Decay of the moving average of gradients, in [0, 1).
    beta2 : float
        Decay of the moving average of squared gradients, in [0, 1).
    epsilon : float
        Added to the root of ``v_hat`` to avoid divisions by zero (>= 0).
    """

    __undescribed__ = {'m': None, 'v': None, 't': 0, '_scratch': None}
    _state_counters = ('updates', 't')
    _state_arrays = ('m', 'v')

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999,
                 epsilon=1e-8):
        super().__init__()
        _check_fraction('AdamStepper', 'beta1', beta1)
        _check_fraction('AdamStepper', 'beta2', beta2)
        _check_non_negative('AdamStepper', 'epsilon', epsilon)
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.m = None
        self.v = None
        self.t = 0
        self._scratch = None

    def start(self, net):
        super().start(net)
        self.m = self._zeros_like_parameters()
        self.v = self._zeros_like_parameters()
        self._scratch = self._zeros_like_parameters()
        self.t = 0

    def _update(self):
        h = self.net.handler
        grad = self.net.buffer.gradients
        tmp = self._scratch
        self.t += 1
        h.mult_st(self.beta1, self.m, self.m)
        h.mult_add_st(1.0 - self.beta1, grad, self.m)
        h.mult_tt(grad, grad, tmp)
        h.mult_st(self.beta2, self.v, self.v)
        h.mult_add_st(1.0 - self.beta2, tmp, self.v)
        h.mult_st(1.0 / (1.0 - self.beta2 ** self.t), self.v, tmp)
        h.sqrt_t(tmp, tmp)
        h.add_st(self.epsilon, tmp, tmp)
        h.divide_tt(self.m, tmp, tmp)
        h.mult_add_st(-self.learning_rate / (1.0 - self.beta1 ** self.t),
                      tmp, self.net.buffer.parameters)

"""The NumbaHandler: the NumpyHandler with its hot operations compiled."""
import importlib

import numpy as np

from brainstorm.handlers.numpy_handler import NumpyHandler

__all__ = ['NumbaHandler']

_modules = {}


def _kernels():
    """The compiled kernels (imported, and so numba, on first use)."""
    if 'images' not in _modules:
        _modules['images'] = importlib.import_module(
            'brainstorm_numba.kernels')
    return _modules['images']


def _fused():
    """The compiled fused cell operations (imported on first use)."""
    if 'fused' not in _modules:
        _modules['fused'] = importlib.import_module('brainstorm_numba.fused')
    return _modules['fused']


class NumbaHandler(NumpyHandler):
    """The NumpyHandler with its hot operations compiled by numba.

    Same arrays (numpy), same semantics and the same random streams as the
    ``NumpyHandler``. Max and average pooling, forward and backward, run
    as compiled kernels (``brainstorm_numba.kernels``), one pass over the
    images each, where the NumpyHandler makes several passes per window
    tap; so do the fused LSTM cell operations (``lstm_cell_forward``,
    ``lstm_cell_backward``: ``brainstorm_numba.fused``), and so does the
    momentum stepper's update (``momentum_update``: one pass over the
    velocity, gradient and parameter buffers instead of three); every other
    operation is the NumpyHandler's (numpy's BLAS for the
    matrix products and the convolutions' patch copies, which compiled
    loops did not beat: see the package README).

    Parameters
    ----------
    dtype : numpy dtype, optional
        Floating point type of all arrays (default float32).
    seed : int, optional
        Seed of the handler's random state ``rnd``.
    num_threads : int, optional
        Threads the compiled operations (and the NumpyHandler's patch
        copies) split the batch over. Default:
        ``$BRAINSTORM_NUM_THREADS``, else the CPUs this process may run on.
    """

    #: preferred over the NumpyHandler as the CPU handler (see
    #: ``brainstorm.handlers.best_cpu_handler``)
    cpu_preference = 10

    def __init__(self, dtype=np.float32, seed=None, num_threads=None):
        super().__init__(dtype, seed=seed, num_threads=num_threads)
        self._images = _kernels()

    def __repr__(self):
        return 'NumbaHandler({})'.format(self.dtype.name)

    # ---------------------------------------------------- fused update --
    def momentum_update(self, velocity, gradients, parameters, momentum,
                        rate):
        arrays = (velocity, gradients, parameters)
        if not (self._suits(*arrays) and velocity.shape == gradients.shape
                == parameters.shape and not any(
                    np.may_share_memory(a, b) for a, b in
                    ((velocity, gradients), (velocity, parameters),
                     (gradients, parameters)))):
            return super().momentum_update(velocity, gradients, parameters,
                                           momentum, rate)
        scalar = self.dtype.type
        _fused().momentum_update(velocity.reshape(-1), gradients.reshape(-1),
                                 parameters.reshape(-1), scalar(momentum),
                                 scalar(rate))

    # ----------------------------------------------------- fused cells --
    def lstm_cell_forward(self, z, i, f, o, c_prev, c, cb, y,
                          activation='tanh'):
        fused = _fused()
        code = fused.ACTIVATION_CODES.get(activation)
        if code is None or not self._suits(z, i, f, o, c_prev, c, cb, y):
            return super().lstm_cell_forward(z, i, f, o, c_prev, c, cb, y,
                                             activation)
        fused.lstm_cell_forward(z, i, f, o, c_prev, c, cb, y, code)

    def lstm_cell_backward(self, z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                           dz, di, df, do, activation='tanh'):
        fused = _fused()
        code = fused.ACTIVATION_CODES.get(activation)
        if code is None or not self._suits(z, i, f, o, c_prev, cb, dy, dc,
                                           dc_prev, dz, di, df, do):
            return super().lstm_cell_backward(
                z, i, f, o, c_prev, cb, dy, dc, dc_prev, dz, di, df, do,
                activation)
        fused.lstm_cell_backward(z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                                 dz, di, df, do, code)

    # --------------------------------------------------------- images --
    def _suits(self, *arrays):
        return all(a.dtype == self.dtype and a.flags.c_contiguous
                   for a in arrays)

    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        if not self._suits(inputs, outputs, argmax):
            return super().maxpool2d_forward_batch(
                inputs, window, outputs, padding, stride, argmax)
        kernel = self._images.maxpool_forward
        kh, kw = window
        sh, sw = stride

        def part(rows):
            kernel(inputs[rows], kh, kw, padding, sh, sw, outputs[rows],
                   argmax[rows])

        self._over_batch(part, inputs.shape[0], outputs.size * kh * kw)

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        if not self._suits(argmax, in_deltas, out_deltas):
            return super().maxpool2d_backward_batch(
                inputs, window, outputs, padding, stride, argmax, in_deltas,
                out_deltas)
        kernel = self._images.maxpool_backward
        width = in_deltas.shape[2]

        def part(rows):
            kernel(argmax[rows], out_deltas[rows], width, in_deltas[rows])

        self._over_batch(part, in_deltas.shape[0], out_deltas.size)

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        if not self._suits(inputs, outputs):
            return super().avgpool2d_forward_batch(inputs, window, outputs,
                                                   padding, stride)
        kernel = self._images.avgpool_forward
        kh, kw = window
        sh, sw = stride

        def part(rows):
            kernel(inputs[rows], kh, kw, padding, sh, sw, outputs[rows])

        self._over_batch(part, inputs.shape[0], outputs.size * kh * kw)

    def avgpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, in_deltas, out_deltas):
        if not self._suits(in_deltas, out_deltas):
            return super().avgpool2d_backward_batch(
                inputs, window, outputs, padding, stride, in_deltas,
                out_deltas)
        kernel = self._images.avgpool_backward
        kh, kw = window
        sh, sw = stride

        def part(rows):
            kernel(out_deltas[rows], kh, kw, padding, sh, sw,
                   in_deltas[rows])

        self._over_batch(part, in_deltas.shape[0],
                         out_deltas.size * kh * kw)

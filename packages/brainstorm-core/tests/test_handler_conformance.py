"""The NumpyHandler passes the operation checks of the conformance suite
(their internal module, ``brainstorm.testing.handler_conformance``), and
they catch broken handlers."""
import numpy as np
import pytest

from brainstorm.handlers.numpy_handler import NumpyHandler
from brainstorm.testing.handler_conformance import (
    CHECKS, OPERATIONS, _check_handler as check_handler,
    _conformance_cases as conformance_cases, _run_operation_check as
    run_operation_check, missing_checks)


def test_every_operation_has_a_check():
    assert missing_checks() == []
    assert [op for op, _ in conformance_cases()] == list(OPERATIONS)


@pytest.mark.parametrize('op', OPERATIONS)
def test_numpy_handler_float32(op):
    run_operation_check(NumpyHandler(np.float32), op)


def test_numpy_handler_float64_passes_everything():
    check_handler(lambda: NumpyHandler(np.float64))


def test_conformance_cases_are_callable_checks():
    handler = NumpyHandler(np.float32)
    for op, check in conformance_cases():
        if op in ('dot_mm', 'softmax_m'):
            check(handler, rtol=1e-4, atol=1e-5)


def test_unknown_operation_is_an_error():
    with pytest.raises(AssertionError, match='no check'):
        run_operation_check(NumpyHandler(), 'frobnicate_t')


class _WrongAdd(NumpyHandler):
    def add_tt(self, a, b, out):
        np.subtract(a, b, out=out)


class _ChangesInputs(NumpyHandler):
    def abs_t(self, a, out):
        np.abs(a, out=out)
        a[...] = 0


class _AddsInsteadOfWriting(NumpyHandler):
    def conv2d_forward_batch(self, inputs, weights, bias, outputs, padding,
                             stride):
        saved = outputs.copy()
        super().conv2d_forward_batch(inputs, weights, bias, outputs, padding,
                                     stride)
        outputs += saved


class _IgnoresStride(NumpyHandler):
    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        if tuple(stride) == (1, 1):
            return super().maxpool2d_forward_batch(
                inputs, window, outputs, padding, stride, argmax)
        outputs[...] = 0
        argmax[...] = 0


class _BadMask(NumpyHandler):
    def generate_probability_mask(self, mask, probability):
        mask[...] = self.rnd.random_sample(mask.shape) < 0.5


@pytest.mark.parametrize('handler_class, op, message', [
    (_WrongAdd, 'add_tt', "add_tt: argument 'out'"),
    (_ChangesInputs, 'abs_t', "argument 'a' .* was changed"),
    (_AddsInsteadOfWriting, 'conv2d_forward_batch', 'outputs'),
    (_IgnoresStride, 'maxpool2d_forward_batch', 'stride'),
    (_BadMask, 'generate_probability_mask', 'fraction'),
])
def test_broken_handlers_fail_with_a_helpful_message(handler_class, op,
                                                     message):
    with pytest.raises(AssertionError, match=message):
        run_operation_check(handler_class(np.float32), op)
    with pytest.raises(AssertionError, match=op):
        check_handler(handler_class)


def test_checks_cover_operations_only():
    assert set(CHECKS) == set(OPERATIONS)

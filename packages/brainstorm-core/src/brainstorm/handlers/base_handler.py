"""The handler protocol: the array operations every layer computes through.

A handler owns an array type (``numpy.ndarray`` for the ``NumpyHandler``,
device arrays for GPU handlers) and implements the operations listed in
:data:`OPERATIONS` on arrays of that type and of its ``dtype``.

Naming scheme: the suffix of an operation tells the shapes it expects,

* ``s`` -- a scalar (a Python or numpy number),
* ``v`` -- a vector: a 2D array with one dimension of size 1,
* ``m`` -- a matrix: a 2D array,
* ``t`` -- a tensor: an array of any shape.

Conventions shared by all operations:

* Every array argument is an array of the handler's ``array_type`` and
  ``dtype`` (index arrays, masks and conditions included).
* An ``out`` argument (also ``y`` and ``dx`` of the activation functions) is
  overwritten, unless the name or docstring of the operation says *add*:
  ``dot_add_mm``, ``mult_add_*``, ``add_into_if``, ``split_add_tt`` and the
  backward passes of convolution and pooling add into their outputs.
  (``add_tt``/``add_st``/``add_mv`` *write* a sum into ``out``.)
* Element-wise operations may be used in place (``out`` is the same array as
  an input). Operations that mix elements (matrix products, convolution,
  pooling, merging, splitting, broadcasting, summing, one-hot conversion,
  indexing) need an ``out`` that does not overlap any input.
* Handlers do not check shapes; wrap a handler in a ``DebugHandler`` to have
  every call checked.

Images are batches of shape ``(N, H, W, C)``; convolution weights are
``(F, kh, kw, C)`` and biases ``(F,)``. With an int ``padding`` (zero padding
on all four sides) and a tuple ``stride = (sh, sw)`` the outputs of
convolution and pooling have the size::

    Ho = (H + 2 * padding - kh) // sh + 1
    Wo = (W + 2 * padding - kw) // sw + 1
"""
from brainstorm.describable import Describable

__all__ = ['Handler', 'OPERATIONS', 'CELL_ACTIVATIONS', 'activate',
           'activation_deriv']

OPERATIONS = (
    'abs_t', 'add_into_if', 'add_mv', 'add_st', 'add_tt', 'allocate',
    'avgpool2d_backward_batch', 'avgpool2d_forward_batch', 'binarize_v',
    'broadcast_t', 'clip_t', 'conv2d_backward_batch', 'conv2d_forward_batch',
    'copy_to', 'copy_to_if', 'create_from_numpy', 'divide_mv', 'divide_tt',
    'dot_add_mm', 'dot_mm', 'exp_t', 'fill', 'fill_gaussian', 'fill_if',
    'generate_probability_mask', 'get_numpy_copy', 'index_m_by_v',
    'is_fully_finite', 'log_t', 'lstm_cell_backward', 'lstm_cell_forward',
    'maxpool2d_backward_batch',
    'maxpool2d_forward_batch', 'merge_tt', 'modulo_tt', 'momentum_update',
    'mult_add_mv',
    'mult_add_st', 'mult_add_tt', 'mult_mv', 'mult_st', 'mult_tt', 'ones',
    'rel', 'rel_deriv', 'set_from_numpy', 'sigmoid', 'sigmoid_deriv',
    'sign_t', 'softmax_m', 'split_add_tt', 'sqrt_t', 'subtract_mv',
    'subtract_tt', 'sum_t', 'tanh', 'tanh_deriv', 'zeros',
)
"""Names of all handler operations (the methods below)."""

CELL_ACTIVATIONS = {'linear': None,
                    'rel': ('rel', 'rel_deriv'),
                    'sigmoid': ('sigmoid', 'sigmoid_deriv'),
                    'tanh': ('tanh', 'tanh_deriv')}
"""Activations the fused cell operations accept: name -> (forward
operation, derivative operation), None for the identity."""


def activate(handler, activation, x, y):
    """``y = act(x)`` with the operations of ``handler``, for an
    activation of :data:`CELL_ACTIVATIONS` (in place where ``x`` is
    ``y``). Used by the default fused cell operations and by recurrent
    layers."""
    if activation == 'linear':
        if x is not y:
            handler.copy_to(x, y)
    else:
        getattr(handler, CELL_ACTIVATIONS[activation][0])(x, y)


def activation_deriv(handler, activation, y, dy, dx):
    """``dx = dy * act'`` given the outputs ``y`` of the activation
    (overwrites ``dx``; ``dx`` may be ``dy``)."""
    if activation == 'linear':
        if dx is not dy:
            handler.copy_to(dy, dx)
    else:
        getattr(handler, CELL_ACTIVATIONS[activation][1])(None, y, dy, dx)


class Handler(Describable):
    """Abstract base class of all handlers.

    It fixes the interface and documents the semantics of every operation;
    each method here raises ``NotImplementedError``. See the module
    docstring for the naming scheme and the conventions shared by all
    operations.

    Attributes
    ----------
    dtype : numpy.dtype
        Data type of all arrays this handler works with.
    context : object
        Context the handler uses for its operations (``'numpy'`` for the
        NumpyHandler, a device context for GPU handlers).
    EMPTY : array_type
        An empty array of this handler's type and dtype.
    rnd : brainstorm.randomness.RandomState
        The random state used by ``fill_gaussian`` and
        ``generate_probability_mask``.
    array_type : type
        The type of the arrays this handler works with.
    """

    dtype = None
    context = None
    EMPTY = None
    rnd = None
    array_type = None

    # ---------------------------------------------------------- memory --
    def allocate(self, shape):
        """Allocate a new array of the given shape with arbitrary content.

        Parameters
        ----------
        shape : tuple[int]
            Shape of the array.

        Returns
        -------
        array_type
            The new array (of this handler's dtype).
        """
        raise NotImplementedError()

    def zeros(self, shape):
        """Allocate a new array of the given shape, filled with zeros.

        Parameters
        ----------
        shape : tuple[int]
            Shape of the array.

        Returns
        -------
        array_type
        """
        raise NotImplementedError()

    def ones(self, shape):
        """Allocate a new array of the given shape, filled with ones.

        Parameters
        ----------
        shape : tuple[int]
            Shape of the array.

        Returns
        -------
        array_type
        """
        raise NotImplementedError()

    def fill(self, mem, val):
        """Set every element of ``mem`` to the scalar ``val``.

        Parameters
        ----------
        mem : array_type
            Array to fill.
        val : dtype
            The value.
        """
        raise NotImplementedError()

    def fill_if(self, mem, val, cond):
        """Set ``mem[i] = val`` wherever ``cond[i]`` is non-zero.

        Parameters
        ----------
        mem : array_type
            Array to (partly) fill.
        val : dtype
            The value.
        cond : array_type
            Condition, same shape as ``mem``.
        """
        raise NotImplementedError()

    def fill_gaussian(self, mean, std, out):
        """Fill ``out`` with samples of a normal distribution drawn from
        ``self.rnd``.

        Parameters
        ----------
        mean : float
            Mean of the distribution.
        std : float
            Standard deviation of the distribution (non-negative).
        out : array_type
            Array to fill.
        """
        raise NotImplementedError()

    def generate_probability_mask(self, mask, probability):
        """Fill ``mask`` with ones (with the given probability, independently
        for each element) and zeros (otherwise), drawn from ``self.rnd``.

        Parameters
        ----------
        mask : array_type
            Array to fill.
        probability : float
            Probability (in [0, 1]) of an element being one.
        """
        raise NotImplementedError()

    def create_from_numpy(self, arr):
        """Create a new array of this handler with the entries of a numpy
        array (converted to the handler's dtype).

        Parameters
        ----------
        arr : numpy.ndarray
            Source array; it is copied, later changes do not show.

        Returns
        -------
        array_type
            New array with the shape and values of ``arr``.
        """
        raise NotImplementedError()

    def get_numpy_copy(self, mem):
        """Return a copy of an array of this handler as a numpy array.

        Parameters
        ----------
        mem : array_type
            Source array.

        Returns
        -------
        numpy.ndarray
            A new array (never a view of ``mem``) with the same shape, dtype
            and content.
        """
        raise NotImplementedError()

    def set_from_numpy(self, mem, arr):
        """Copy the content of a numpy array into existing memory.

        Parameters
        ----------
        mem : array_type
            Destination array.
        arr : numpy.ndarray
            Source array, same shape as ``mem``.
        """
        raise NotImplementedError()

    def copy_to(self, src, dest):
        """Copy the content of ``src`` into ``dest``.

        Parameters
        ----------
        src : array_type
            Source array.
        dest : array_type
            Destination array, same shape as ``src``.
        """
        raise NotImplementedError()

    def copy_to_if(self, src, dest, cond):
        """Set ``dest[i] = src[i]`` wherever ``cond[i]`` is non-zero.

        Parameters
        ----------
        src : array_type
            Source array.
        dest : array_type
            Destination array, same shape as ``src``.
        cond : array_type
            Condition, same shape as ``src``.
        """
        raise NotImplementedError()

    def is_fully_finite(self, a):
        """Whether all entries of ``a`` are finite (no NaN, no +-inf).

        Parameters
        ----------
        a : array_type
            Array to check.

        Returns
        -------
        bool
            A Python bool.
        """
        raise NotImplementedError()

    # ----------------------------------------------------- elementwise --
    def abs_t(self, a, out):
        """Element-wise absolute value: ``out = |a|``.

        Parameters
        ----------
        a : array_type
            Input.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def sign_t(self, a, out):
        """Element-wise sign: ``out`` is 1 where ``a > 0``, 0 where
        ``a == 0`` and -1 where ``a < 0``.

        Parameters
        ----------
        a : array_type
            Input.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def sqrt_t(self, a, out):
        """Element-wise non-negative square root: ``out = sqrt(a)``.

        Parameters
        ----------
        a : array_type
            Input (non-negative).
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def exp_t(self, a, out):
        """Element-wise exponential: ``out = exp(a)``.

        Parameters
        ----------
        a : array_type
            Input.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def log_t(self, a, out):
        """Element-wise natural logarithm: ``out = log(a)``.

        Parameters
        ----------
        a : array_type
            Input (positive).
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def clip_t(self, a, a_min, a_max, out):
        """Limit the values of ``a`` to the interval ``[a_min, a_max]``:
        ``out = min(max(a, a_min), a_max)``.

        Parameters
        ----------
        a : array_type
            Input.
        a_min : dtype
            Lower bound.
        a_max : dtype
            Upper bound (``a_min <= a_max``).
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def add_tt(self, a, b, out):
        """Element-wise sum: ``out = a + b``.

        Parameters
        ----------
        a, b : array_type
            Inputs of the same shape.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def subtract_tt(self, a, b, out):
        """Element-wise difference: ``out = a - b``.

        Parameters
        ----------
        a, b : array_type
            Inputs of the same shape.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def mult_tt(self, a, b, out):
        """Element-wise product: ``out = a * b``.

        Parameters
        ----------
        a, b : array_type
            Inputs of the same shape.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def mult_add_tt(self, a, b, out):
        """Add the element-wise product to ``out``: ``out += a * b``.

        Parameters
        ----------
        a, b : array_type
            Inputs of the same shape.
        out : array_type
            Accumulator, same shape as ``a``.
        """
        raise NotImplementedError()

    def divide_tt(self, a, b, out):
        """Element-wise quotient: ``out = a / b``.

        Parameters
        ----------
        a : array_type
            Dividend.
        b : array_type
            Divisor, same shape as ``a``.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def modulo_tt(self, a, b, out):
        """Element-wise remainder in Python's sense: ``out = a % b`` (the
        result has the sign of the divisor ``b``).

        Parameters
        ----------
        a : array_type
            Dividend.
        b : array_type
            Divisor, same shape as ``a``.
        out : array_type
            Output, same shape as ``a``.
        """
        raise NotImplementedError()

    def add_into_if(self, a, out, cond):
        """Add ``a[i]`` to ``out[i]`` wherever ``cond[i]`` is non-zero.

        Parameters
        ----------
        a : array_type
            Values to add.
        out : array_type
            Accumulator, same shape as ``a``.
        cond : array_type
            Condition, same shape as ``a``.
        """
        raise NotImplementedError()

    def add_st(self, s, t, out):
        """Add a scalar to every element: ``out = t + s``.

        Parameters
        ----------
        s : dtype
            Scalar.
        t : array_type
            Input.
        out : array_type
            Output, same shape as ``t``.
        """
        raise NotImplementedError()

    def mult_st(self, s, t, out):
        """Multiply every element by a scalar: ``out = s * t``.

        Parameters
        ----------
        s : dtype
            Scalar.
        t : array_type
            Input.
        out : array_type
            Output, same shape as ``t``.
        """
        raise NotImplementedError()

    def mult_add_st(self, s, t, out):
        """Add a scaled array to ``out``: ``out += s * t``.

        Parameters
        ----------
        s : dtype
            Scalar.
        t : array_type
            Input.
        out : array_type
            Accumulator, same shape as ``t``.
        """
        raise NotImplementedError()

    # ---------------------------------------------------- fused update --
    def momentum_update(self, velocity, gradients, parameters, momentum,
                        rate):
        """One step of gradient descent with momentum, in place::

            velocity = momentum * velocity + rate * gradients
            parameters += velocity

        ``rate`` is the step with its sign (the ``MomentumStepper`` passes
        minus its effective learning rate). The default runs ``mult_st``,
        ``mult_add_st`` and ``add_tt``, three passes over the arrays;
        handlers may fuse them into one, rounding as they do (each product
        and sum rounded to the arrays' dtype, no fused multiply-add).

        Parameters
        ----------
        velocity : array_type
            The velocity, updated in place.
        gradients : array_type
            The gradients, same shape.
        parameters : array_type
            The parameters, same shape, updated in place.
        momentum : float
            Factor of the old velocity.
        rate : float
            Factor of the gradients.
        """
        self.mult_st(momentum, velocity, velocity)
        self.mult_add_st(rate, gradients, velocity)
        self.add_tt(velocity, parameters, parameters)

    # ------------------------------------------------ matrix / vector --
    def add_mv(self, m, v, out):
        """Add a vector to every row or column of a matrix with
        broadcasting: ``out = m + v``.

        Parameters
        ----------
        m : array_type
            Matrix of shape (M, N).
        v : array_type
            Vector of shape (1, N) or (M, 1).
        out : array_type
            Output of shape (M, N).
        """
        raise NotImplementedError()

    def subtract_mv(self, m, v, out):
        """Subtract a vector from every row or column of a matrix with
        broadcasting: ``out = m - v``.

        Parameters
        ----------
        m : array_type
            Matrix of shape (M, N).
        v : array_type
            Vector of shape (1, N) or (M, 1).
        out : array_type
            Output of shape (M, N).
        """
        raise NotImplementedError()

    def mult_mv(self, m, v, out):
        """Multiply a matrix element-wise by a vector with broadcasting:
        ``out = m * v``. ``v`` may also have the shape of ``m`` (then this is
        ``mult_tt``).

        Parameters
        ----------
        m : array_type
            Matrix of shape (M, N).
        v : array_type
            Vector of shape (1, N) or (M, 1), or a matrix of shape (M, N).
        out : array_type
            Output of shape (M, N).
        """
        raise NotImplementedError()

    def mult_add_mv(self, m, v, out):
        """Add the broadcast product of a matrix and a vector to ``out``:
        ``out += m * v``. ``v`` may also have the shape of ``m``.

        Parameters
        ----------
        m : array_type
            Matrix of shape (M, N).
        v : array_type
            Vector of shape (1, N) or (M, 1), or a matrix of shape (M, N).
        out : array_type
            Accumulator of shape (M, N).
        """
        raise NotImplementedError()

    def divide_mv(self, m, v, out):
        """Divide a matrix element-wise by a vector with broadcasting:
        ``out = m / v``.

        Parameters
        ----------
        m : array_type
            Dividend, matrix of shape (M, N).
        v : array_type
            Divisor, vector of shape (1, N) or (M, 1).
        out : array_type
            Output of shape (M, N).
        """
        raise NotImplementedError()

    def dot_mm(self, a, b, out, transa=False, transb=False):
        """Matrix product: ``out = op(a) @ op(b)``, where ``op`` transposes
        its argument if ``transa`` (``transb``) is true.

        Parameters
        ----------
        a : array_type
            Matrix of shape (M, K), or (K, M) if ``transa``.
        b : array_type
            Matrix of shape (K, N), or (N, K) if ``transb``.
        out : array_type
            Output of shape (M, N); must not overlap ``a`` or ``b``.
        transa, transb : bool
            Whether to transpose ``a`` (``b``).
        """
        raise NotImplementedError()

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        """Add a matrix product to ``out``: ``out += op(a) @ op(b)``.

        Parameters
        ----------
        a : array_type
            Matrix of shape (M, K), or (K, M) if ``transa``.
        b : array_type
            Matrix of shape (K, N), or (N, K) if ``transb``.
        out : array_type
            Accumulator of shape (M, N); must not overlap ``a`` or ``b``.
        transa, transb : bool
            Whether to transpose ``a`` (``b``).
        """
        raise NotImplementedError()

    def binarize_v(self, v, out):
        """Turn a column of class indices into one-hot rows:
        ``out[i, j] = 1`` if ``j == v[i, 0]``, else 0.

        Parameters
        ----------
        v : array_type
            Column vector (M, 1) of integral values in ``[0, K)``.
        out : array_type
            Output matrix (M, K).
        """
        raise NotImplementedError()

    def index_m_by_v(self, m, v, out):
        """Pick one element per row: ``out[i, 0] = m[i, int(v[i, 0])]``.

        Parameters
        ----------
        m : array_type
            Matrix (M, K).
        v : array_type
            Column vector (M, 1) of integral column indices in ``[0, K)``.
        out : array_type
            Output column vector (M, 1).
        """
        raise NotImplementedError()

    def softmax_m(self, m, out):
        """Softmax over the last axis of a matrix, computed in a numerically
        stable way (the row maximum is subtracted before exponentiating):
        ``out[i, j] = exp(m[i, j]) / sum_k exp(m[i, k])``.

        Parameters
        ----------
        m : array_type
            Input matrix (M, N).
        out : array_type
            Output matrix (M, N).
        """
        raise NotImplementedError()

    # ----------------------------------------------------- reductions --
    def sum_t(self, a, axis, out):
        """Sum the elements of ``a`` along ``axis``.

        Parameters
        ----------
        a : array_type
            Input.
        axis : int or None
            Axis to sum over; None sums all elements.
        out : array_type
            Output, of the reduced shape (``a.shape`` without ``axis``) or of
            the keep-dims shape (``a.shape`` with ``axis`` set to 1). For
            ``axis=None`` any shape holding exactly one element.
        """
        raise NotImplementedError()

    def broadcast_t(self, a, axis, out):
        """Copy ``a`` along a dimension of size 1, like numpy broadcasting:
        e.g. for ``axis=3`` a (2, 3, 4, 1) array fills a (2, 3, 4, 5) one.

        Parameters
        ----------
        a : array_type
            Input whose dimension ``axis`` has size 1.
        axis : int
            The axis to broadcast along.
        out : array_type
            Output, same number of dimensions as ``a``, differing from it in
            dimension ``axis`` only.
        """
        raise NotImplementedError()

    def merge_tt(self, a, b, out):
        """Concatenate ``a`` and ``b`` along their last axis into ``out``.

        Parameters
        ----------
        a : array_type
            First part, shape (..., Na).
        b : array_type
            Second part, shape (..., Nb), leading dimensions as ``a``.
        out : array_type
            Output of shape (..., Na + Nb).
        """
        raise NotImplementedError()

    def split_add_tt(self, x, out_a, out_b):
        """Split ``x`` along its last axis and add the parts into
        ``out_a`` and ``out_b``: ``out_a += x[..., :Na]``,
        ``out_b += x[..., Na:]``.

        Parameters
        ----------
        x : array_type
            Input of shape (..., Na + Nb).
        out_a : array_type
            Accumulator of shape (..., Na).
        out_b : array_type
            Accumulator of shape (..., Nb).
        """
        raise NotImplementedError()

    # ---------------------------------------------------- activations --
    def rel(self, x, y):
        """Rectified linear function: ``y = max(0, x)``.

        Parameters
        ----------
        x : array_type
            Input.
        y : array_type
            Output, same shape as ``x``.
        """
        raise NotImplementedError()

    def rel_deriv(self, x, y, dy, dx):
        """Back-propagate through ``rel``: ``dx = dy * (y > 0)``
        (``dx`` is overwritten).

        Parameters
        ----------
        x : array_type or None
            Inputs of ``rel``; unused (present for a uniform signature).
        y : array_type
            Outputs of ``rel``.
        dy : array_type
            Derivatives with respect to ``y``.
        dx : array_type
            Output: derivatives with respect to ``x``.
        """
        raise NotImplementedError()

    def sigmoid(self, x, y):
        """Logistic sigmoid: ``y = 1 / (1 + exp(-x))``, without overflow
        for large ``|x|``.

        Parameters
        ----------
        x : array_type
            Input.
        y : array_type
            Output, same shape as ``x``.
        """
        raise NotImplementedError()

    def sigmoid_deriv(self, x, y, dy, dx):
        """Back-propagate through ``sigmoid``: ``dx = dy * y * (1 - y)``
        (``dx`` is overwritten).

        Parameters
        ----------
        x : array_type or None
            Inputs of ``sigmoid``; unused.
        y : array_type
            Outputs of ``sigmoid``.
        dy : array_type
            Derivatives with respect to ``y``.
        dx : array_type
            Output: derivatives with respect to ``x``.
        """
        raise NotImplementedError()

    def tanh(self, x, y):
        """Hyperbolic tangent: ``y = tanh(x)``.

        Parameters
        ----------
        x : array_type
            Input.
        y : array_type
            Output, same shape as ``x``.
        """
        raise NotImplementedError()

    def tanh_deriv(self, x, y, dy, dx):
        """Back-propagate through ``tanh``: ``dx = dy * (1 - y ** 2)``
        (``dx`` is overwritten).

        Parameters
        ----------
        x : array_type or None
            Inputs of ``tanh``; unused.
        y : array_type
            Outputs of ``tanh``.
        dy : array_type
            Derivatives with respect to ``y``.
        dx : array_type
            Output: derivatives with respect to ``x``.
        """
        raise NotImplementedError()

    # ------------------------------------------------- fused cells --
    # Operations that fuse several of the element-wise operations above for
    # one time step of a recurrent layer. Their default implementations
    # call those operations, so a handler need not override them; handlers
    # that can do the whole step in one pass (a compiled kernel) may.
    def lstm_cell_forward(self, z, i, f, o, c_prev, c, cb, y,
                          activation='tanh'):
        """One time step of an LSTM cell (no peepholes) from the
        pre-activations of its four gates::

            z = act(z)                  block input   (in place)
            i = sigmoid(i)              input gate    (in place)
            f = sigmoid(f)              forget gate   (in place)
            o = sigmoid(o)              output gate   (in place)
            c = z * i + c_prev * f      cell state
            cb = act(c)                 cell output
            y = o * cb                  output

        The default implementation calls the activation functions,
        ``mult_tt`` and ``mult_add_tt``.

        Parameters
        ----------
        z, i, f, o : array_type
            Pre-activations (B, size) of the block input and of the input,
            forget and output gates; overwritten with their activations.
        c_prev : array_type
            Cell state of the previous step (B, size).
        c : array_type
            Output: the cell state (B, size).
        cb : array_type
            Output: ``act(c)`` (B, size); with ``activation='linear'`` it
            may be ``c`` itself.
        y : array_type
            Output (B, size).
        activation : {'tanh', 'linear', 'rel', 'sigmoid'}
            ``act``, the activation of the block input and of the cell
            state (the gates always use the sigmoid).

        Apart from ``cb`` being ``c``, the arrays must not overlap.
        """
        activate(self, activation, z, z)
        self.sigmoid(i, i)
        self.sigmoid(f, f)
        self.sigmoid(o, o)
        self.mult_tt(z, i, c)
        self.mult_add_tt(f, c_prev, c)
        activate(self, activation, c, cb)
        self.mult_tt(o, cb, y)

    def lstm_cell_backward(self, z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                           dz, di, df, do, activation='tanh'):
        """Back-propagate through one ``lstm_cell_forward`` step::

            dc += dy * o * act'(c)                 (act' from cb = act(c))
            do = dy * cb * o * (1 - o)
            dc_prev = dc * f                       (overwritten)
            dz = dc * i * act'                     (act' from z = act(.))
            di = dc * z * i * (1 - i)
            df = dc * c_prev * f * (1 - f)

        where ``act'`` is the derivative of ``act`` expressed through its
        output as in ``tanh_deriv`` and friends (1 for 'linear'). The
        outputs ``dz, di, df, do`` are the deltas of the pre-activations.
        The default implementation calls ``mult_tt``, ``mult_add_tt``,
        ``add_tt`` and the derivative operations.

        Parameters
        ----------
        z, i, f, o : array_type
            The activations ``lstm_cell_forward`` left in its ``z, i, f,
            o`` (B, size).
        c_prev : array_type
            Cell state of the previous step (B, size).
        cb : array_type
            ``act(c)`` of this step (B, size) (``c`` for 'linear').
        dy : array_type
            Deltas of the output ``y`` (B, size).
        dc : array_type
            Deltas of the cell state ``c`` that later steps sent back
            (B, size); the total deltas of ``c`` are added into it.
        dc_prev : array_type
            Output: the deltas of ``c_prev`` through this step (B, size),
            overwritten.
        dz, di, df, do : array_type
            Output: deltas of the four pre-activations (B, size),
            overwritten.
        activation : {'tanh', 'linear', 'rel', 'sigmoid'}
            As for ``lstm_cell_forward``.

        The arrays must not overlap.
        """
        if activation == 'linear':
            self.mult_add_tt(dy, o, dc)
        else:
            self.mult_tt(dy, o, do)             # do as scratch
            activation_deriv(self, activation, cb, do, do)
            self.add_tt(dc, do, dc)
        self.mult_tt(dy, cb, do)
        self.sigmoid_deriv(None, o, do, do)
        self.mult_tt(dc, f, dc_prev)
        self.mult_tt(dc, i, dz)
        activation_deriv(self, activation, z, dz, dz)
        self.mult_tt(dc, z, di)
        self.sigmoid_deriv(None, i, di, di)
        self.mult_tt(dc, c_prev, df)
        self.sigmoid_deriv(None, f, df, df)

    # --------------------------------------------------------- images --
    def conv2d_forward_batch(self, inputs, weights, bias, outputs, padding,
                             stride):
        """2D convolution of a batch of images (a correlation: the kernel is
        not flipped) plus bias::

            outputs[n, i, j, f] = bias[f] + sum_{a, b, c}
                xpad[n, i * sh + a, j * sw + b, c] * weights[f, a, b, c]

        where ``xpad`` is ``inputs`` zero-padded by ``padding`` on all sides.

        Parameters
        ----------
        inputs : array_type
            Images (N, H, W, C).
        weights : array_type
            Filters (F, kh, kw, C).
        bias : array_type
            Bias (F,).
        outputs : array_type
            Output (N, Ho, Wo, F), overwritten; must not overlap the inputs.
        padding : int
            Zero padding on all four sides.
        stride : tuple[int, int]
            Vertical and horizontal stride (sh, sw).
        """
        raise NotImplementedError()

    def conv2d_backward_batch(self, inputs, weights, padding, stride,
                              in_deltas, out_deltas, weight_deltas,
                              bias_deltas):
        """Gradients of ``conv2d_forward_batch``, *added* into ``in_deltas``,
        ``weight_deltas`` and ``bias_deltas``.

        Parameters
        ----------
        inputs : array_type
            Images of the forward pass (N, H, W, C).
        weights : array_type
            Filters (F, kh, kw, C).
        padding : int
            Zero padding on all four sides.
        stride : tuple[int, int]
            Stride (sh, sw).
        in_deltas : array_type or None
            Accumulator for the derivatives with respect to ``inputs``
            (N, H, W, C); None skips them (a layer whose input deltas
            nothing uses, such as the first layer of a network).
        out_deltas : array_type
            Derivatives with respect to the outputs (N, Ho, Wo, F).
        weight_deltas : array_type
            Accumulator for the gradient of ``weights`` (F, kh, kw, C).
        bias_deltas : array_type
            Accumulator for the gradient of ``bias`` (F,).
        """
        raise NotImplementedError()

    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        """2D max-pooling of a batch of images.

        Padded positions never win (they count as -inf). For each output
        element, ``argmax`` receives the position of the maximum as a flat
        index ``row * W + col`` into one channel of the *unpadded* image;
        ties go to the first position in row-major window order. (Should a
        window lie entirely in the padding, which needs
        ``padding >= window``, its output is 0 and its argmax -1.)

        Parameters
        ----------
        inputs : array_type
            Images (N, H, W, C).
        window : tuple[int, int]
            Window size (kh, kw).
        outputs : array_type
            Output (N, Ho, Wo, C).
        padding : int
            Padding on all four sides.
        stride : tuple[int, int]
            Stride (sh, sw).
        argmax : array_type
            Output (N, Ho, Wo, C) of the handler's dtype.
        """
        raise NotImplementedError()

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        """Gradient of ``maxpool2d_forward_batch``: add each element of
        ``out_deltas`` to ``in_deltas`` at the position its ``argmax``
        names (negative argmax entries are skipped).

        Parameters
        ----------
        inputs : array_type
            Images of the forward pass (N, H, W, C).
        window : tuple[int, int]
            Window size (kh, kw).
        outputs : array_type
            Outputs of the forward pass (N, Ho, Wo, C).
        padding : int
            Padding on all four sides.
        stride : tuple[int, int]
            Stride (sh, sw).
        argmax : array_type
            The argmax the forward pass computed (N, Ho, Wo, C).
        in_deltas : array_type
            Accumulator (N, H, W, C).
        out_deltas : array_type
            Derivatives with respect to the outputs (N, Ho, Wo, C).
        """
        raise NotImplementedError()

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        """2D average-pooling of a batch of images: the mean over those
        window positions that lie inside the unpadded image (padding is not
        counted; a window entirely in the padding gives 0).

        Parameters
        ----------
        inputs : array_type
            Images (N, H, W, C).
        window : tuple[int, int]
            Window size (kh, kw).
        outputs : array_type
            Output (N, Ho, Wo, C).
        padding : int
            Padding on all four sides.
        stride : tuple[int, int]
            Stride (sh, sw).
        """
        raise NotImplementedError()

    def avgpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, in_deltas, out_deltas):
        """Gradient of ``avgpool2d_forward_batch``, *added* into
        ``in_deltas``: each output delta, divided by the number of inputs
        its window averaged, goes to each of those inputs.

        Parameters
        ----------
        inputs : array_type
            Images of the forward pass (N, H, W, C).
        window : tuple[int, int]
            Window size (kh, kw).
        outputs : array_type
            Outputs of the forward pass (N, Ho, Wo, C).
        padding : int
            Padding on all four sides.
        stride : tuple[int, int]
            Stride (sh, sw).
        in_deltas : array_type
            Accumulator (N, H, W, C).
        out_deltas : array_type
            Derivatives with respect to the outputs (N, Ho, Wo, C).
        """
        raise NotImplementedError()

"""The CUDA C sources of the PyCudaHandler's kernels.

The kernels live in ``.cu`` files beside this module, one file per group
(element-wise, reductions, random numbers, images). The handler compiles
each file as it is (``pycuda.compiler.SourceModule(..., no_extern_c=True)``:
the files declare their kernels ``extern "C"`` themselves), so ``nvcc``
compiles the very same text.

The argument list of every kernel is read from its source, and a kernel is
launched with the matching ``pycuda`` argument format (``'P'`` for a
pointer, ``'f'`` float, ``'i'`` int, ``'q'`` long long, ``'I'`` unsigned
int).
"""
import pathlib
import re
from collections import OrderedDict

__all__ = ['KERNEL_FILES', 'SOURCE_DIR', 'read_source', 'kernel_signatures',
           'argument_format', 'kernel_formats']

SOURCE_DIR = pathlib.Path(__file__).resolve().parent / 'cuda'
"""Folder of the ``.cu`` files."""

KERNEL_FILES = ('elementwise.cu', 'reductions.cu', 'random.cu', 'images.cu')
"""The source files, each compiled as one module."""

_KERNEL = re.compile(r'__global__\s+void\s+(\w+)\s*\(([^)]*)\)')

_SCALAR_FORMATS = {'float': 'f', 'int': 'i', 'long long': 'q',
                   'unsigned int': 'I'}


def read_source(filename):
    """The text of one kernel source file (one of :data:`KERNEL_FILES`)."""
    if filename not in KERNEL_FILES:
        raise ValueError('no kernel source {!r}; the sources are {}'.format(
            filename, ', '.join(KERNEL_FILES)))
    return (SOURCE_DIR / filename).read_text()


def _parameter_type(parameter):
    """The C type of one parameter declaration, without qualifiers and
    the parameter's name (``'float *'``, ``'long long'`` ...)."""
    words = parameter.replace('*', ' * ').split()
    if len(words) < 2:
        raise ValueError('cannot read the kernel parameter {!r}'.format(
            parameter))
    words = [w for w in words[:-1] if w not in ('const', '__restrict__')]
    pointer = '*' in words
    base = ' '.join(w for w in words if w != '*')
    return base + ' *' if pointer else base


def kernel_signatures(source):
    """Kernels declared in a source text and their parameter types.

    Parameters
    ----------
    source : str
        CUDA C source.

    Returns
    -------
    OrderedDict[str, list[str]]
        Kernel name -> C types of its parameters, in order.
    """
    kernels = OrderedDict()
    for match in _KERNEL.finditer(source):
        name, parameters = match.group(1), match.group(2)
        if name in kernels:
            raise ValueError('the kernel {!r} is declared twice'.format(name))
        kernels[name] = [_parameter_type(p) for p in parameters.split(',')
                         if p.strip()]
    return kernels


def argument_format(types):
    """The pycuda argument format of a kernel with these parameter types.

    Parameters
    ----------
    types : list[str]
        C types as :func:`kernel_signatures` gives them.

    Returns
    -------
    str
        One character per parameter.
    """
    result = []
    for ctype in types:
        if ctype.endswith('*'):
            result.append('P')
        elif ctype in _SCALAR_FORMATS:
            result.append(_SCALAR_FORMATS[ctype])
        else:
            raise ValueError('kernel parameters must be pointers or one of '
                             '{}, got {!r}'.format(
                                 ', '.join(_SCALAR_FORMATS), ctype))
    return ''.join(result)


def kernel_formats():
    """Every kernel of every source file with its file and argument format.

    Returns
    -------
    OrderedDict[str, tuple[str, str]]
        Kernel name -> (source file, argument format).
    """
    formats = OrderedDict()
    for filename in KERNEL_FILES:
        for name, types in kernel_signatures(read_source(filename)).items():
            if name in formats:
                raise ValueError('the kernel {!r} is declared in {} and '
                                 '{}'.format(name, formats[name][0],
                                             filename))
            formats[name] = (filename, argument_format(types))
    return formats

"""The CUDA C sources of the PyCudaHandler's kernels.

The kernels live in ``.cu`` files beside this module, one file per group
(element-wise, reductions, random numbers, images). The handler compiles
each file as it is (``pycuda.compiler.SourceModule(..., no_extern_c=True)``:
the files declare their kernels ``extern "C"`` themselves), so ``nvcc``
compiles the very same text.

Every file is compiled twice: with 32-bit index arithmetic (``index_t`` is
``unsigned int``) for launches whose arrays all have fewer than 2**31
elements, and with 64-bit arithmetic (``long long``) otherwise. A GPU
divides 32-bit integers in a few instructions but 64-bit ones in a long
software routine, and the kernels split flat indices into coordinates by
division and modulo. :func:`kernel_source` gives the text of either
variant; the files compile on their own as the 64-bit variant.

The argument list of every kernel is read from its source, and a kernel is
launched with the matching ``pycuda`` argument format (``'P'`` for a
pointer, ``'f'`` float, ``'i'`` int, ``'q'`` long long, ``'I'`` unsigned
int).
"""
import pathlib
import re
from collections import OrderedDict

__all__ = ['KERNEL_FILES', 'HEADERS', 'SOURCE_DIR', 'INDEX_BITS',
           'INDEX_LIMIT',
           'read_source', 'kernel_source', 'index_bits', 'kernel_signatures',
           'argument_format', 'kernel_formats']

SOURCE_DIR = pathlib.Path(__file__).resolve().parent / 'cuda'
"""Folder of the ``.cu`` files."""

KERNEL_FILES = ('elementwise.cu', 'reductions.cu', 'random.cu', 'images.cu')
"""The source files, each compiled as one module."""

INDEX_BITS = (32, 64)
"""The widths of the index arithmetic each file is compiled with."""

INDEX_LIMIT = 2 ** 31
"""Launches whose arrays all have fewer elements than this use the 32-bit
variant. Its ``index_t`` is unsigned, so a grid-stride loop below this
bound cannot wrap (the bound plus the most threads of a grid stays below
2**32), and neither can any flat index into such arrays."""

_KERNEL = re.compile(r'__global__\s+void\s+(\w+)\s*\(([^)]*)\)')

_SCALAR_FORMATS = {'float': 'f', 'int': 'i', 'long long': 'q',
                   'unsigned int': 'I'}


HEADERS = ('index.cuh',)
"""Headers the source files include (``#include "index.cuh"``: the index
type and the grid-stride loop); :func:`read_source` puts their text in
place of the ``#include`` line, so that pycuda compiles one
self-contained text, while ``nvcc`` finds them beside the files."""

_INCLUDE = re.compile(r'^#include "([\w.]+)"[ \t]*$', re.M)


def read_source(filename):
    """The text of one kernel source file (one of :data:`KERNEL_FILES`),
    with the text of the headers it includes in place of their
    ``#include`` lines."""
    if filename not in KERNEL_FILES:
        raise ValueError('no kernel source {!r}; the sources are {}'.format(
            filename, ', '.join(KERNEL_FILES)))

    def header(match):
        name = match.group(1)
        if name not in HEADERS:
            raise ValueError('{} includes {!r}, which is not one of the '
                             'kernel headers {}'.format(filename, name,
                                                        ', '.join(HEADERS)))
        return (SOURCE_DIR / name).read_text()
    return _INCLUDE.sub(header, (SOURCE_DIR / filename).read_text())


def kernel_source(filename, bits):
    """The text of one kernel source file compiled with ``bits``-bit index
    arithmetic (32 or 64): the file with ``INDEX_BITS`` defined first."""
    if bits not in INDEX_BITS:
        raise ValueError('index arithmetic is 32 or 64 bits wide, got '
                         '{!r}'.format(bits))
    return '#define INDEX_BITS {}\n'.format(bits) + read_source(filename)


def index_bits(extent, limit=None):
    """The width of the index arithmetic for a launch whose largest array
    has ``extent`` elements: 32 below :data:`INDEX_LIMIT` (or ``limit``),
    else 64."""
    return 32 if extent < (INDEX_LIMIT if limit is None else limit) else 64


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

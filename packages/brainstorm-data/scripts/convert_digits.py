#!/usr/bin/env python
"""Convert scikit-learn's bundled copy of the UCI digits into digits.npz.

This was run once to create ``src/brainstorm_data/data/digits.npz``, the
dataset embedded in brainstorm-data (it is kept so that the conversion can
be checked and repeated; brainstorm-data itself never needs scikit-learn).

Source
------
The csv is ``sklearn/datasets/data/digits.csv.gz`` inside the scikit-learn
wheel (1.9.1 was used), obtained without installing scikit-learn::

    pip download --no-deps scikit-learn -d /tmp/skl
    cd packages/brainstorm-data
    python scripts/convert_digits.py /tmp/skl/scikit_learn-*.whl

(a path to an extracted ``digits.csv.gz`` works as well). It has 1797 rows,
each 64 pixel values 0..16 of an 8x8 image (row-major) followed by the class
label 0..9. It is scikit-learn's copy of the test set of the UCI "Optical
Recognition of Handwritten Digits" data set:
https://archive.ics.uci.edu/dataset/80

Licence
-------
scikit-learn is distributed under the BSD-3-Clause licence. The UCI Optical
Recognition of Handwritten Digits data set (E. Alpaydin, C. Kaynak, 1998) is
licensed under CC BY 4.0; please cite:

    Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten
    Digits [Dataset]. UCI Machine Learning Repository.
    https://doi.org/10.24432/C50P49

Output
------
``digits.npz`` (``np.savez_compressed``) holding ``images`` (uint8,
(1797, 8, 8), values 0..16) and ``labels`` (uint8, (1797,), values 0..9),
loadable with ``allow_pickle=False``.
"""
import argparse
import gzip
import io
import os
import zipfile

import numpy as np

MEMBER = 'sklearn/datasets/data/digits.csv.gz'
DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              '..', 'src', 'brainstorm_data', 'data',
                              'digits.npz')


def read_csv_gz(source):
    """Return the raw bytes of digits.csv.gz from a wheel or a .csv.gz."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(MEMBER)
    with open(source, 'rb') as f:
        return f.read()


def convert(source, output=DEFAULT_OUTPUT):
    """Parse and check the csv, then write ``output``; return its arrays."""
    text = gzip.decompress(read_csv_gz(source)).decode('ascii')
    table = np.loadtxt(io.StringIO(text), delimiter=',', dtype=np.int64)
    if table.shape != (1797, 65):
        raise ValueError('expected 1797 rows of 65 values, got {}'.format(
            table.shape))
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16:
        raise ValueError('pixel values outside 0..16')
    if set(np.unique(labels)) != set(range(10)):
        raise ValueError('labels are not the classes 0..9')
    images = pixels.reshape(-1, 8, 8).astype(np.uint8)
    labels = labels.astype(np.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    np.savez_compressed(output, images=images, labels=labels)
    return images, labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source', help='scikit-learn wheel or digits.csv.gz')
    parser.add_argument('-o', '--output', default=DEFAULT_OUTPUT,
                        help='where to write digits.npz (default: inside '
                             'the brainstorm_data package)')
    args = parser.parse_args(argv)
    images, labels = convert(args.source, args.output)
    print('wrote {} ({} images, {} bytes)'.format(
        os.path.normpath(args.output), len(images),
        os.path.getsize(args.output)))


if __name__ == '__main__':
    main()

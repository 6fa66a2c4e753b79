#!/usr/bin/env bash
# Download what gpu_check.sh installs on a GPU machine that reaches no
# network: the pycuda source distribution (it has no wheels; it is compiled
# there, or beforehand by build_pycuda_wheel.sh) and, with all their
# dependencies, the wheels of
#
#   - nvmath-python (cuBLAS) and cuda-core, with cuda-bindings for each CUDA
#     major version of $CUDA_MAJORS (cuda.core imports cuda.bindings, whose
#     major version must match the toolkit's);
#   - pycuda's build dependencies (setuptools, wheel, numpy) and run-time
#     dependencies (pytools, platformdirs, mako);
#   - hatchling, the build backend of the brainstorm packages, and their
#     run-time dependencies (numpy, h5py, pluggy, tqdm), and pytest;
#
# so that `pip install --no-index --find-links FOLDER ...` resolves them
# with pip's dependency resolution. Run it on a machine with network access,
# from anywhere:
#
#     packages/brainstorm-cuda/scripts/fetch_gpu_deps.sh [FOLDER]
#
# FOLDER defaults to .cuda-deps in the repository root (git-ignored).
# Environment: PYTHON (the pip to download with, default python3),
# PYTHON_VERSIONS (default "3.10 3.11 3.12 3.13": the wheels are resolved
# for each, for linux x86_64), CUDA_MAJORS (default "12 13"). The folder
# takes about 40 MB per Python version; to carry it to a machine with a
# size limit, fetch only that machine's Python and CUDA major version.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
dest=${1:-$root/.cuda-deps}
python=${PYTHON:-python3}
versions=${PYTHON_VERSIONS:-3.10 3.11 3.12 3.13}
cuda_majors=${CUDA_MAJORS:-12 13}

# pinned where the handler was read against them; the rest resolves freely
pycuda_sdist="pycuda==2026.1"
requirements=(
    # cuBLAS through nvmath-python; cuda-bindings is added per CUDA major
    "nvmath-python==1.0.0" "cuda-core==1.2.2"
    # pycuda's build and run-time dependencies
    "setuptools" "wheel" "numpy>=1.24" "pytools>=2011.2" "platformdirs>=2.2.0"
    "mako"
    # the brainstorm packages: build backend, dependencies and tests
    "hatchling>=1.26" "h5py>=3.8" "pluggy>=1.3" "tqdm>=4.60" "pytest>=8"
)
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64)

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# the sdist only (its metadata is prepared with the index's setuptools)
"$python" -m pip download --quiet --no-deps --no-binary pycuda \
    --dest "$dest" "$pycuda_sdist"
for version in $versions; do
    # pip evaluates the environment markers of dependencies (tomli and
    # exceptiongroup for pytest, backports.strenum for cuda-core on 3.10)
    # with the interpreter it runs on, so each version resolves with its own
    # Python where this machine has it
    resolver=$python
    if "python$version" -c '' >/dev/null 2>&1; then
        resolver=python$version
    else
        echo "python$version not found: its dependencies are resolved with" \
             "$python's environment markers" >&2
    fi
    for major in $cuda_majors; do
        echo "resolving for Python $version, CUDA $major ($resolver)"
        "$resolver" -m pip download --quiet --only-binary :all: \
            --python-version "$version" --implementation cp \
            --abi "cp${version/./}" --abi abi3 --abi none "${platforms[@]}" \
            --dest "$dest" "${requirements[@]}" "cuda-bindings==$major.*"
    done
done
du -sh "$dest"
ls -1 "$dest"

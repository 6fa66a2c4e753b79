#!/usr/bin/env bash
# Check the PyCudaHandler on a machine with an NVIDIA GPU, the CUDA toolkit
# (nvcc) and Python, but no network:
#
# 1. install the wheels that fetch_gpu_deps.sh downloaded, and pycuda
#    compiled from its source distribution, into a private folder that goes
#    first on PYTHONPATH (nothing is installed into the system's Python);
# 2. install the brainstorm packages of this working tree there;
# 3. run brainstorm-cuda's tests on the GPU (a test that cannot get a GPU
#    fails here instead of being skipped; the CPU-emulated variants are left
#    to the machines without a GPU);
# 4. run the mlp and cnn workloads of bench/bench_gpu.py next to PyTorch on
#    the same GPU, when torch is installed.
#
#     packages/brainstorm-cuda/scripts/gpu_check.sh [DEPS_FOLDER]
#
# DEPS_FOLDER defaults to .cuda-deps in the repository root. Environment:
# PYTHON (default python3), GPU_CHECK_DIR (work folder, default
# /tmp/brainstorm-gpu-check), BENCH_ARGS (default "mlp cnn --blocks 5"),
# CUDA_HOME (the toolkit; default: found from nvcc), LIBCUDA (the driver
# library to link pycuda against where the toolkit has no stub; default:
# found with ldconfig).
# The exit status is that of the tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
deps=$(cd "${1:-$root/.cuda-deps}" && pwd)
python=${PYTHON:-python3}
work=${GPU_CHECK_DIR:-/tmp/brainstorm-gpu-check}
site=$work/site
bench_args=${BENCH_ARGS:-mlp cnn --blocks 5}

step() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

rm -rf "$work"
mkdir -p "$site" "$work/build"
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv,noheader || echo "nvidia-smi failed"
nvcc=$(command -v nvcc || true)
if [ -z "$nvcc" ]; then
    nvcc=$(ls -1d /usr/local/cuda*/bin/nvcc 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
    echo "nvcc not found: the CUDA toolkit is needed" >&2
    exit 1
fi
cuda_root=${CUDA_HOME:-}
if [ -z "$cuda_root" ]; then
    # shellcheck disable=SC2012
    for candidate in "$(dirname "$(dirname "$(readlink -f "$nvcc")")")" \
            /usr/local/cuda $(ls -1d /usr/local/cuda-* 2>/dev/null | sort -rV); do
        if [ -e "$candidate/include/cuda_runtime.h" ]; then
            cuda_root=$candidate
            break
        fi
    done
fi
if [ -z "$cuda_root" ]; then
    echo "the CUDA toolkit's folder was not found (set CUDA_HOME)" >&2
    exit 1
fi
export PATH="$(dirname "$nvcc"):$PATH"
"$python" --version
"$nvcc" --version | tail -n 1
echo "CUDA toolkit: $cuda_root"

step "wheels from $deps"
"$python" -m pip install --quiet --no-index --no-deps --no-compile \
    --find-links "$deps" --target "$site" \
    nvmath-python cuda-core cuda-pathfinder pytools platformdirs mako \
    siphash24 hatchling trove-classifiers tomlkit

step "pycuda, compiled from its source distribution"
# pycuda links against libcuda.so: the toolkit's stub, else the driver's
driver_dirs="$cuda_root/lib64,$cuda_root/lib64/stubs"
if [ ! -e "$cuda_root/lib64/libcuda.so" ] && \
        [ ! -e "$cuda_root/lib64/stubs/libcuda.so" ]; then
    libcuda=${LIBCUDA:-$(ldconfig -p 2>/dev/null |
                         awk '/libcuda\.so(\.1)? /{print $NF; exit}')}
    for candidate in /usr/local/nvidia/lib64/libcuda.so.1 \
            /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1; do
        if [ -z "$libcuda" ] && [ -e "$candidate" ]; then
            libcuda=$candidate
        fi
    done
    if [ -z "$libcuda" ]; then
        echo "libcuda.so (the NVIDIA driver library) not found" >&2
        exit 1
    fi
    mkdir -p "$work/libcuda"
    ln -sf "$libcuda" "$work/libcuda/libcuda.so"
    driver_dirs="$driver_dirs,$work/libcuda"
    echo "linking against $libcuda"
fi
# and includes the driver API's cuda.h: the toolkit's, else the one of the
# nvidia-cuda-runtime wheel
include_dirs="$cuda_root/include"
if [ ! -e "$cuda_root/include/cuda.h" ]; then
    wheel_include=$("$python" -c "
import glob, os, sys
for base in sys.path:
    for header in sorted(glob.glob(os.path.join(base, 'nvidia', '*', 'include',
                                                'cuda.h'))):
        print(os.path.dirname(header))
        sys.exit()")
    if [ -z "$wheel_include" ]; then
        echo "cuda.h (the CUDA driver API header) not found" >&2
        exit 1
    fi
    include_dirs="$include_dirs,$wheel_include"
    echo "cuda.h from $wheel_include"
fi
tar -xzf "$deps"/pycuda-*.tar.gz -C "$work/build"
(
    cd "$work"/build/pycuda-*
    curand=()
    if ! ls "$cuda_root"/lib64/libcurand.so* >/dev/null 2>&1; then
        curand=(--no-cuda-enable-curand)
    fi
    "$python" configure.py --cuda-root="$cuda_root" \
        --cuda-inc-dir="$include_dirs" --cudadrv-lib-dir="$driver_dirs" \
        "${curand[@]}"
    "$python" setup.py --quiet build_ext --inplace --parallel "$(nproc)"
    cp -r pycuda "$site"/
)
"$python" -c "
import pycuda, pycuda.driver as driver
driver.init()
print('pycuda', pycuda.VERSION_TEXT, 'on', driver.Device(0).name())
from nvmath.bindings import cublas
print('cuBLAS', cublas.get_version(cublas.create()))"

step "brainstorm packages of $root"
"$python" -m pip install --quiet --no-index --no-deps --no-build-isolation \
    --target "$site" "$root"/packages/brainstorm-core \
    "$root"/packages/brainstorm-layers "$root"/packages/brainstorm-hooks \
    "$root"/packages/brainstorm-data "$root"/packages/brainstorm-cuda

step "brainstorm-cuda tests on the GPU"
cd "$root"
status=0
BRAINSTORM_CUDA_REQUIRE_GPU=1 "$python" -m pytest -q -p no:cacheprovider \
    -k "not emulated" packages/brainstorm-cuda/tests || status=$?

step "benchmark: bench/bench_gpu.py $bench_args"
# shellcheck disable=SC2086
"$python" bench/bench_gpu.py $bench_args || echo "the benchmark failed"

step "done, tests exited with $status"
exit "$status"

#!/usr/bin/env bash
# Check the PyCudaHandler on a machine with an NVIDIA GPU, its driver, the
# CUDA toolkit (12.x or 13.x, nvcc) and Python, but no network:
#
# 0. fail at once, naming what is missing, without the NVIDIA driver
#    (libcuda.so.1) or a GPU;
# 1. install, from the folder that fetch_gpu_deps.sh filled and with pip's
#    dependency resolution, nvmath-python, cuda-bindings of the toolkit's
#    major version, pytest and the brainstorm packages' dependencies into a
#    private folder that goes first on PYTHONPATH (nothing is installed
#    into the system's Python);
# 2. install pycuda: the wheel of build_pycuda_wheel.sh when one in
#    packages/brainstorm-cuda/wheels matches this Python, else build it
#    here from the source distribution (a few minutes);
# 3. install the brainstorm packages of this working tree there;
# 4. run brainstorm-cuda's tests on the GPU (a test that cannot get a GPU
#    fails here instead of being skipped; the CPU-emulated variants are left
#    to the machines without a GPU);
# 5. run the mlp and cnn workloads of bench/bench_gpu.py next to PyTorch on
#    the same GPU (brainstorm alone when torch is not installed).
#
#     packages/brainstorm-cuda/scripts/gpu_check.sh [--install-only] [DEPS]
#
# DEPS defaults to .cuda-deps in the repository root. --install-only runs
# steps 1 to 3 (and the imports that need no driver) and stops; it works
# without a GPU. Environment: PYTHON (default python3), GPU_CHECK_DIR (work
# folder, default /tmp/brainstorm-gpu-check), BENCH_ARGS (default "mlp cnn
# --blocks 5"), CUDA_HOME (the toolkit; default: found from nvcc).
# The exit status is that of the tests.
set -euo pipefail

install_only=0
if [ "${1:-}" = "--install-only" ]; then
    install_only=1
    shift
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
deps=${1:-$root/.cuda-deps}
python=${PYTHON:-python3}
work=${GPU_CHECK_DIR:-/tmp/brainstorm-gpu-check}
site=$work/site
bench_args=${BENCH_ARGS:-mlp cnn --blocks 5}
# shellcheck source=cuda_env.sh
. "$here/cuda_env.sh"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }
fail() { printf 'gpu_check.sh: %s\n' "$*" >&2; exit 1; }
offline_pip() {
    PIP_CONFIG_FILE=/dev/null "$python" -m pip --isolated "$@"
}

step "machine"
"$python" --version
driver=$(find_driver_library)
if [ "$install_only" = 0 ]; then
    if [ -z "$driver" ]; then
        fail "the NVIDIA driver is not installed: libcuda.so.1 (the CUDA" \
             "driver library) is neither known to ldconfig nor in" \
             "/usr/local/nvidia/lib64, /usr/lib/x86_64-linux-gnu or" \
             "/usr/lib64, and nvidia-smi is" \
             "$(command -v nvidia-smi >/dev/null || echo -n 'not ')installed;" \
             "this check needs a machine with an NVIDIA GPU and its driver" \
             "(--install-only runs the installation steps without one)"
    fi
    if ! gpus=$(nvidia-smi --query-gpu=name,driver_version,memory.total \
                --format=csv,noheader 2>&1) || [ -z "$gpus" ]; then
        fail "the NVIDIA driver ($driver) finds no GPU: nvidia-smi says:" \
             "${gpus:-nothing}"
    fi
    echo "$gpus"
    echo "driver library: $driver"
fi
find_cuda_toolkit || exit 1
"$nvcc" --version | tail -n 1
echo "CUDA toolkit: $cuda_root (CUDA $cuda_major)"
if ! ls "$cuda_root"/lib64/libcublas.so* >/dev/null 2>&1 && \
        ! ls "$cuda_root"/targets/x86_64-linux/lib/libcublas.so* \
            >/dev/null 2>&1 && \
        ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so'; then
    echo "warning: libcublas.so is neither in $cuda_root nor known to" \
         "ldconfig: nvmath-python will not find cuBLAS" >&2
fi

if [ ! -d "$deps" ]; then
    fail "the folder of fetch_gpu_deps.sh, $deps, is missing"
fi
deps=$(cd "$deps" && pwd)
rm -rf "$work"
mkdir -p "$site"
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

step "wheels from $deps, dependencies resolved offline"
offline_pip install --quiet --no-index --no-compile --find-links "$deps" \
    --target "$site" "nvmath-python" "cuda-core" "cuda-bindings==$cuda_major.*" \
    "pytools>=2011.2" "platformdirs>=2.2.0" "mako" "hatchling>=1.26" \
    "numpy>=1.24" "h5py>=3.8" "pluggy>=1.3" "tqdm>=4.60" "pytest>=8"

step "pycuda"
tag=$("$python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
wheel=$(ls -1 "$here"/../wheels/pycuda-*-"$tag"-"$tag"-linux_x86_64.whl \
        2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$wheel" ]; then
    echo "the prebuilt $(basename "$wheel")"
else
    echo "no prebuilt wheel for $tag: building one from the source" \
         "distribution"
    PYTHON=$python "$here/build_pycuda_wheel.sh" "$deps" "$work/wheels"
    wheel=$(ls -1 "$work"/wheels/pycuda-*.whl | tail -n 1)
fi
offline_pip install --quiet --no-index --no-compile --find-links "$deps" \
    --target "$site" --upgrade "$wheel"
"$python" -c "
import pycuda, nvmath, cuda.bindings
from nvmath.bindings import cublas
print('pycuda', pycuda.VERSION_TEXT, '- nvmath-python', nvmath.__version__,
      '- cuda-bindings', cuda.bindings.__version__)"

step "brainstorm packages of $root"
offline_pip install --quiet --no-index --no-deps --no-build-isolation \
    --target "$site" "$root"/packages/brainstorm-core \
    "$root"/packages/brainstorm-layers "$root"/packages/brainstorm-hooks \
    "$root"/packages/brainstorm-data "$root"/packages/brainstorm-cuda
"$python" -c "import brainstorm, brainstorm_cuda; print('brainstorm imports')"
if [ "$install_only" = 1 ]; then
    step "installed into $site (--install-only: no GPU steps)"
    exit 0
fi

step "the driver, cuBLAS and the device"
"$python" -c "
import pycuda.driver as driver
driver.init()
device = driver.Device(0)
print('pycuda on', device.name(), 'compute capability',
      device.compute_capability())
context = device.retain_primary_context()
context.push()
try:
    from nvmath.bindings import cublas
    handle = cublas.create()
    print('cuBLAS', cublas.get_version(handle))
    cublas.destroy(handle)
finally:
    context.pop()"

step "brainstorm-cuda tests on the GPU"
cd "$root"
status=0
BRAINSTORM_CUDA_REQUIRE_GPU=1 "$python" -m pytest -q -p no:cacheprovider \
    -rs -k "not emulated" packages/brainstorm-cuda/tests || status=$?

step "benchmark: bench/bench_gpu.py $bench_args"
if ! "$python" -c 'import torch' >/dev/null 2>&1; then
    echo "torch does not import here: brainstorm figures only"
fi
# shellcheck disable=SC2086
"$python" bench/bench_gpu.py $bench_args || echo "the benchmark failed"

step "done, tests exited with $status"
exit "$status"

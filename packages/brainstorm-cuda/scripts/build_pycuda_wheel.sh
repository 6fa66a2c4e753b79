#!/usr/bin/env bash
# Build a pycuda wheel from the source distribution that fetch_gpu_deps.sh
# downloaded, offline (its build dependencies come from the same folder).
# It needs the CUDA toolkit but no GPU: pycuda links against libcuda.so,
# which is taken from the toolkit's stubs, else the driver, else a stub
# made here from the toolkit's cuda.h (every driver function returning
# CUDA_ERROR_STUB_LIBRARY). The wheel loads the driver's libcuda.so.1 at
# import. pycuda is built without curand, which the handler does not use
# (and which pycuda would otherwise need on the loader path at import).
#
#     packages/brainstorm-cuda/scripts/build_pycuda_wheel.sh [DEPS [OUT]]
#
# DEPS defaults to .cuda-deps in the repository root, OUT to
# packages/brainstorm-cuda/wheels (git-ignored); gpu_check.sh installs a
# wheel from OUT when one matches its Python. Environment: PYTHON (the
# Python to build for, default python3), CUDA_HOME, JOBS (parallel
# compilations, default: the number of cores).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
deps=$(cd "${1:-$root/.cuda-deps}" && pwd)
out=${2:-$here/../wheels}
python=${PYTHON:-python3}
jobs=${JOBS:-$(nproc)}
# shellcheck source=cuda_env.sh
. "$here/cuda_env.sh"
find_cuda_toolkit

mkdir -p "$out"
out=$(cd "$out" && pwd)
build=$(mktemp -d "${TMPDIR:-/tmp}/pycuda-build.XXXXXX")
trap 'rm -rf "$build"' EXIT

# A libcuda.so whose functions all answer CUDA_ERROR_STUB_LIBRARY (34), for
# the names in $build/libcuda/functions.
make_stub() {
    sort -u -o "$build/libcuda/functions" "$build/libcuda/functions"
    {
        echo 'static const char name[] = "CUDA_ERROR_STUB_LIBRARY";'
        echo 'static const char text[] = "CUDA driver is a stub library";'
        echo 'int cuGetErrorName(int e, const char **s)'
        echo '{ (void)e; *s = name; return 0; }'
        echo 'int cuGetErrorString(int e, const char **s)'
        echo '{ (void)e; *s = text; return 0; }'
        grep -v -x -e cuGetErrorName -e cuGetErrorString \
            "$build/libcuda/functions" | sed 's/.*/int &(void) { return 34; }/'
    } > "$build/libcuda/stub.c"
    "${CC:-cc}" -shared -fPIC -Wl,-soname,libcuda.so.1 \
        -o "$build/libcuda/libcuda.so" "$build/libcuda/stub.c"
}

# the library to link against
stub=0
libcuda_dir=
for candidate in "$cuda_root/lib64/stubs" \
        "$cuda_root/targets/x86_64-linux/lib/stubs" "$cuda_root/lib64"; do
    if [ -e "$candidate/libcuda.so" ]; then
        libcuda_dir=$candidate
        break
    fi
done
if [ -z "$libcuda_dir" ]; then
    driver=$(find_driver_library)
    mkdir -p "$build/libcuda"
    if [ -n "$driver" ]; then
        ln -s "$driver" "$build/libcuda/libcuda.so"
        echo "linking against the driver's $driver"
    else
        # a stub of the driver API made from cuda.h
        "${CC:-cc}" -E -P -I"$cuda_root/include" "$cuda_root/include/cuda.h" |
            sed -n 's/^[[:space:]]*\(extern[[:space:]]*\)\{0,1\}CUresult[[:space:]]\{1,\}\([A-Za-z_0-9]\{1,\}\)[[:space:]]*(.*/\2/p' \
            > "$build/libcuda/functions"
        make_stub
        echo "linking against a stub of $(wc -l < "$build/libcuda/functions")" \
             "driver functions from cuda.h"
        stub=1
    fi
    libcuda_dir=$build/libcuda
fi

tar -xzf "$deps"/pycuda-*.tar.gz -C "$build"
source_dir=$(ls -1d "$build"/pycuda-*/)
(
    cd "$source_dir"
    # configure.py needs setuptools; the build itself runs in pip's
    # isolated environment, filled from the deps folder
    mkdir -p "$build/tools"
    "$python" -m pip --isolated install --quiet --no-index \
        --find-links "$deps" --target "$build/tools" setuptools
    PYTHONPATH="$build/tools" "$python" configure.py \
        --cuda-root="$cuda_root" --cuda-inc-dir="$cuda_root/include" \
        --cudadrv-lib-dir="$libcuda_dir" --no-cuda-enable-curand
    printf '\n[build_ext]\nparallel = %s\n' "$jobs" >> setup.cfg
    PIP_CONFIG_FILE=/dev/null "$python" -m pip --isolated wheel --no-deps \
        --no-index --find-links "$deps" --wheel-dir "$out" .
)
wheel=$(ls -1t "$out"/pycuda-*.whl | head -n 1)
if [ "$stub" = 1 ]; then
    # the stub gets every driver function the built module calls, so that
    # pycuda.driver imports with it (cuInit then fails: no driver)
    mkdir -p "$build/module"
    (cd "$build/module" && "$python" -m zipfile -e "$wheel" .)
    nm -D --undefined-only "$build"/module/pycuda/_driver*.so |
        awk '$2 ~ /^cu[A-Z]/ {print $2}' | sed 's/@.*//' \
        >> "$build/libcuda/functions"
    make_stub
    mkdir -p "$out/libcuda-stub"
    cp "$build/libcuda/libcuda.so" "$out/libcuda-stub/libcuda.so.1"
    echo "a stub libcuda.so.1 of $(wc -l < "$build/libcuda/functions")" \
         "functions is in $out/libcuda-stub"
fi
ls -l "$wheel"

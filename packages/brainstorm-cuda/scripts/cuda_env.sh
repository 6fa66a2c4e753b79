# Sourced by build_pycuda_wheel.sh and gpu_check.sh: finds the CUDA toolkit
# and exports what pycuda's build and nvmath-python's library search need.
#
# Sets nvcc, cuda_root and cuda_major, and exports CUDA_HOME, CUDA_PATH,
# PATH (nvcc's folder first) and LD_LIBRARY_PATH (the toolkit's library
# folders first, where nvmath-python looks for libcublas).

find_cuda_toolkit() {
    nvcc=$(command -v nvcc || true)
    if [ -z "$nvcc" ] && [ -n "${CUDA_HOME:-}" ]; then
        nvcc=$CUDA_HOME/bin/nvcc
    fi
    if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
        # shellcheck disable=SC2012
        nvcc=$(ls -1d /usr/local/cuda*/bin/nvcc 2>/dev/null | sort -V |
               tail -n 1)
    fi
    if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
        echo "nvcc not found: the CUDA toolkit (12.x or 13.x) is needed" \
             "(put nvcc on the PATH or set CUDA_HOME)" >&2
        return 1
    fi
    cuda_root=${CUDA_HOME:-}
    if [ -z "$cuda_root" ]; then
        # shellcheck disable=SC2012
        for candidate in "$(dirname "$(dirname "$(readlink -f "$nvcc")")")" \
                /usr/local/cuda $(ls -1d /usr/local/cuda-* 2>/dev/null |
                                  sort -rV); do
            if [ -e "$candidate/include/cuda.h" ]; then
                cuda_root=$candidate
                break
            fi
        done
    fi
    if [ -z "$cuda_root" ] || [ ! -e "$cuda_root/include/cuda.h" ]; then
        echo "the CUDA toolkit's folder with include/cuda.h was not found" \
             "(set CUDA_HOME)" >&2
        return 1
    fi
    cuda_major=$("$nvcc" --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
    export CUDA_HOME=$cuda_root CUDA_PATH=$cuda_root
    export PATH="$(dirname "$nvcc"):$PATH"
    local libs=$cuda_root/lib64
    if [ -d "$cuda_root/targets/x86_64-linux/lib" ]; then
        libs=$libs:$cuda_root/targets/x86_64-linux/lib
    fi
    export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# The NVIDIA driver's libcuda.so.1, or nothing.
find_driver_library() {
    local found
    found=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF; exit}')
    for candidate in /usr/local/nvidia/lib64/libcuda.so.1 \
            /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1; do
        if [ -z "$found" ] && [ -e "$candidate" ]; then
            found=$candidate
        fi
    done
    printf '%s' "$found"
}

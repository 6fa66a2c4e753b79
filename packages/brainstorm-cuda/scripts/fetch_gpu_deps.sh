#!/usr/bin/env bash
# Download what gpu_check.sh installs on a GPU machine that has no network:
# the pycuda source distribution (it has no wheels; it is compiled there),
# the wheels it and nvmath-python need at run time, and hatchling to install
# the brainstorm packages. Run it on a machine with network access, from
# anywhere:
#
#     packages/brainstorm-cuda/scripts/fetch_gpu_deps.sh [FOLDER]
#
# FOLDER defaults to .cuda-deps in the repository root (git-ignored). The
# compiled wheels are fetched for each Python of $PYTHON_VERSIONS (default
# "3.11 3.12") on linux x86_64; gpu_check.sh installs those matching its
# interpreter. About 27 MB for both versions (nvmath-python and cuda-core are
# the large ones).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
dest=${1:-$root/.cuda-deps}
python=${PYTHON:-python3}
versions=${PYTHON_VERSIONS:-3.11 3.12}

# pinned so that a fetched folder holds one version of each package
pycuda_sdist="pycuda==2026.1"
compiled=("nvmath-python==1.0.0" "cuda-core==1.2.2" "siphash24==1.9")
pure=("cuda-pathfinder==1.9.1" "pytools==2026.1.1" "platformdirs==4.14.9"
      "mako==1.4.3" "hatchling==1.33.0" "trove-classifiers==2026.9.21.13"
      "tomlkit==0.15.2")
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64)

mkdir -p "$dest"
"$python" -m pip download --quiet --no-deps --no-binary pycuda \
    --dest "$dest" "$pycuda_sdist"
"$python" -m pip download --quiet --no-deps --only-binary :all: \
    --dest "$dest" "${pure[@]}"
for version in $versions; do
    "$python" -m pip download --quiet --no-deps --only-binary :all: \
        --python-version "$version" --implementation cp "${platforms[@]}" \
        --dest "$dest" "${compiled[@]}"
done
du -sh "$dest"
ls -1 "$dest"

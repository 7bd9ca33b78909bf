#!/usr/bin/env bash
# Usage (on the GPU machine, from the repo root): validation/gpu/run-on-gpu.sh OUTDIR [harness args...]
#
# Runs the published harness (.gpu/, made by validation/gpu/publish.sh) with the machine's PyTorch libtorch,
# NCCL and CUDA runtime. OUTDIR is created and holds nothing from this script itself; pass --out OUTDIR/... to
# the harness to write a measurement there. Without harness args it prints the harness's help.
# Environment: SP (site-packages of the PyTorch install, default /opt/torch/.venv/lib/python3.12/site-packages),
# DOTNET_DIR (where to unpack the .NET runtime, default /tmp/dotnet).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: validation/gpu/run-on-gpu.sh OUTDIR [harness args...]" >&2; exit 2; }
outdir="$1"; shift
mkdir -p "$outdir"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
gpu="$root/.gpu"
[ -f "$gpu/harness/harness.dll" ] && [ -f "$gpu/dotnet-rt.tar.xz" ] \
    || { echo "run-on-gpu: $gpu/harness or $gpu/dotnet-rt.tar.xz missing; run validation/gpu/publish.sh first (and carry .gpu)" >&2; exit 1; }

# NVLink multicast stays off, for this process and its children.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

SP="${SP:-/opt/torch/.venv/lib/python3.12/site-packages}"
for lib in torch/lib/libtorch_cuda.so nvidia/nccl/lib/libnccl.so.2 nvidia/cu13/lib/libcudart.so.13; do
    [ -e "$SP/$lib" ] || { echo "run-on-gpu: $SP/$lib not found (set SP to the site-packages of a CUDA PyTorch install)" >&2; exit 1; }
done

dotnet_dir="${DOTNET_DIR:-/tmp/dotnet}"
if [ ! -x "$dotnet_dir/dotnet" ]; then
    # Several processes (one per GPU under torchrun or srun) may get here at once: unpack aside, then rename.
    mkdir -p "$(dirname "$dotnet_dir")"
    tmp="$(mktemp -d "$dotnet_dir.XXXXXX")"
    tar -xJf "$gpu/dotnet-rt.tar.xz" -C "$tmp"
    mv -T "$tmp" "$dotnet_dir" 2>/dev/null || rm -rf "$tmp"   # another process was first
    [ -x "$dotnet_dir/dotnet" ] || { echo "run-on-gpu: no dotnet in $dotnet_dir after unpacking" >&2; exit 1; }
fi
export DOTNET_ROOT="$dotnet_dir" PATH="$dotnet_dir:$PATH" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export LD_LIBRARY_PATH="$SP/torch/lib:$SP/nvidia/nccl/lib:$SP/nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Provenance the harness cannot see from inside: the PyTorch (libtorch) version it runs on.
if [ -z "${HARNESS_LIBTORCH_VERSION:-}" ] && [ -f "$SP/torch/version.py" ]; then
    HARNESS_LIBTORCH_VERSION="$(sed -n -E "s/^__version__ *(: *[A-Za-z]+ *)?= *['\"]([^'\"]*)['\"].*/\2/p" "$SP/torch/version.py" | head -n1)"
    export HARNESS_LIBTORCH_VERSION
fi

cd "$root"
exec dotnet "$gpu/harness/harness.dll" "$@"

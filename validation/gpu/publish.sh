#!/usr/bin/env bash
# Usage: validation/gpu/publish.sh
#
# Prepares, in .gpu/ (git-ignored), what a GPU machine without .NET needs to run the harness:
#   .gpu/harness/          the harness, framework-dependent for linux-x64 (TorchSharp only, no libtorch:
#                          the machine's own PyTorch libtorch is used), plus git-commit.txt for provenance
#   .gpu/dotnet-rt.tar.xz  the .NET runtime (dotnet host, hostfxr, Microsoft.NETCore.App)
# Then, on the GPU machine, from the repo root: validation/gpu/run-on-gpu.sh OUTDIR [harness args...]
# or validation/gpu/experiment.sh OUTDIR. See validation/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out=.gpu
limit_mib=60

command -v dotnet >/dev/null || { echo "publish: 'dotnet' not on PATH" >&2; exit 1; }
mkdir -p "$out"
rm -rf "$out/harness"
dotnet publish validation/Harness -c Release -r linux-x64 --self-contained false -o "$out/harness" -p:SatelliteResourceLanguages=en -nologo -v quiet

[ -f "$out/harness/harness.dll" ] || { echo "publish: harness.dll missing from $out/harness" >&2; exit 1; }
[ -f "$out/harness/TorchSharp.dll" ] || { echo "publish: TorchSharp.dll missing from $out/harness" >&2; exit 1; }
[ -f "$out/harness/libLibTorchSharp.so" ] || { echo "publish: libLibTorchSharp.so is not next to TorchSharp.dll in $out/harness" >&2; exit 1; }
if compgen -G "$out/harness/libtorch*.so" >/dev/null; then
    echo "publish: a libtorch build landed in $out/harness; the harness must reference TorchSharp only" >&2; exit 1
fi

# Provenance: the commit the harness was built from (+dirty when tracked files had changes).
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit+dirty"
fi
echo "$commit" > "$out/harness/git-commit.txt"

# The .NET runtime, from the SDK that just built the harness.
dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
tar -C "$dotnet_dir" -cJf "$out/dotnet-rt.tar.xz" dotnet host/fxr shared/Microsoft.NETCore.App

harness_kib=$(du -sk "$out/harness" | cut -f1)
rt_kib=$(du -k "$out/dotnet-rt.tar.xz" | cut -f1)
total_mib=$(( (harness_kib + rt_kib + 1023) / 1024 ))
echo "publish: $out/harness            $(( (harness_kib + 1023) / 1024 )) MiB ($(ls "$out/harness" | wc -l) files; commit $commit)"
echo "publish: $out/dotnet-rt.tar.xz   $(( (rt_kib + 1023) / 1024 )) MiB"
echo "publish: total                   $total_mib MiB (limit $limit_mib MiB)"
if [ "$total_mib" -ge "$limit_mib" ]; then
    echo "publish: .gpu is too large to carry to the GPU machine" >&2; exit 1
fi

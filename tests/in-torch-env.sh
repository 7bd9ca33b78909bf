#!/usr/bin/env bash
# Usage: tests/in-torch-env.sh COMMAND [ARGS...]
#
# Runs COMMAND (in the current directory, normally the repo root) somewhere
# TorchSharp's CPU natives can load, and exits with COMMAND's exit code.
#
# Why: TorchSharp 0.107's libLibTorchSharp.so needs libstdc++ from GCC 13+
# (symbol version GLIBCXX_3.4.32). Debian 12 ships GCC 12's libstdc++
# (GLIBCXX_3.4.30), so on such a host TorchSharp fails with the misleading
# "Failed to load native component". We must not patch binaries or upgrade
# the host's C/C++ runtime, so instead:
#   * If the host's libstdc++ already has GLIBCXX_3.4.32 -> run COMMAND directly.
#   * Otherwise (needs root): keep a minimal Debian 13 (trixie) root, cached
#     OUTSIDE the clone, and run COMMAND chrooted into it, inside a private
#     mount namespace. The .NET SDK, the NuGet package cache, the repo clone,
#     the current directory and /tmp are bind-mounted at the SAME absolute
#     paths (project.assets.json and build outputs hold absolute paths), so
#     restore/build on the host and `dotnet test --no-build` inside just work.
#     All mounts live only in that namespace and vanish when it ends, even if
#     the job is killed.
#
# Environment knobs:
#   SIM_TRIXIE_ROOT       where the Debian 13 root is cached
#                         (default /var/cache/sim/trixie-root)
#   SIM_TRIXIE_MIRROR     Debian mirror for debootstrap
#                         (default: debootstrap's own default mirror)
#   SIM_TORCH_ENV_BINDS   extra host paths to bind at the same path, ':'-separated
#   NUGET_PACKAGES        NuGet package cache (default ~/.nuget/packages)
#   DOTNET_ROOT           .NET install dir (default: resolved from `dotnet` on PATH)
set -euo pipefail

me="in-torch-env"
say()  { echo "$me: $*" >&2; }
die()  { echo "$me: error: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: tests/in-torch-env.sh COMMAND [ARGS...]"

ROOT="${SIM_TRIXIE_ROOT:-/var/cache/sim/trixie-root}"
ROOT="${ROOT%/}"
MARKER="$ROOT/.sim-trixie-root-complete"
LOCK="$ROOT.lock"
MIRROR="${SIM_TRIXIE_MIRROR:-}"
SUITE=trixie
PACKAGES=libicu76          # ICU for the .NET runtime; libstdc++6 (GCC 14) comes with minbase

# ---------------------------------------------------------------------------
# Stage 2: we were re-executed inside `unshare --mount` (see the end of this
# file). Set up the mounts, then chroot and run the command.
# ---------------------------------------------------------------------------
if [ "${_SIM_TORCH_ENV_INNER:-}" = 1 ]; then
    unset _SIM_TORCH_ENV_INNER
    # Belt and braces: make sure nothing we mount propagates back to the host.
    mount --make-rprivate /

    # Kernel filesystems. Without /proc the .NET runtime dies with 0x8007000E.
    mount -t proc proc "$ROOT/proc"
    mount --rbind /sys "$ROOT/sys"
    mount --rbind /dev "$ROOT/dev"      # /dev/shm, /dev/pts, ...
    # Name resolution, in case the command needs the network.
    for f in /etc/resolv.conf /etc/hosts; do
        [ -e "$f" ] || continue
        touch "$ROOT$f"
        mount --bind "$f" "$ROOT$f"
    done

    # Bind host paths at the same absolute path. Read-only for the SDK.
    bind() {  # bind PATH [ro]
        mkdir -p "$ROOT$1"
        mount --rbind "$1" "$ROOT$1"
        if [ "${2:-}" = ro ]; then
            mount -o remount,bind,ro "$ROOT$1"
        fi
    }
    bind "$_SIM_DOTNET_ROOT" ro
    # The rest: shortest first; skip paths already covered by an earlier bind.
    bound=()
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        covered=0
        for b in "${bound[@]}"; do
            case "$p/" in "$b"/*) covered=1 ;; esac
        done
        [ "$covered" = 1 ] && continue
        bind "$p"
        bound+=("$p")
    done < <(printf '%s\n' "$_SIM_BINDS" | tr ':' '\n' | awk '{ print length, $0 }' | sort -n | cut -d' ' -f2-)

    cwd="$PWD"
    unset _SIM_BINDS
    dotnet_root="$_SIM_DOTNET_ROOT"; unset _SIM_DOTNET_ROOT
    # exec so that COMMAND's exit status is ours. The host's environment is
    # passed through except for what must point into the root.
    # The SDK dir is read-only here, so skip the first-run workload integrity
    # check and update notice, which try to write into it (they would only
    # print "An issue was encountered verifying workloads").
    # MSBuild node reuse / build server off: daemons would otherwise outlive
    # the command and keep this mount namespace alive.
    exec chroot "$ROOT" /usr/bin/env -C "$cwd" -u LD_LIBRARY_PATH -u LD_PRELOAD \
        DOTNET_ROOT="$dotnet_root" \
        PATH="$dotnet_root:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        HOME="$HOME" \
        DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_NOLOGO=1 \
        DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1 DOTNET_SKIP_WORKLOAD_INTEGRITY_CHECK=1 \
        MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false \
        "$@"
fi

# ---------------------------------------------------------------------------
# Stage 1 (host).
# ---------------------------------------------------------------------------

# Does the host's libstdc++ already have GLIBCXX_3.4.32 (GCC 13+)? Then no chroot.
# awk reads to the end (no early 'exit'): a long ldconfig listing would otherwise die of SIGPIPE, and under
# pipefail that status (141) would end this script.
host_libstdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found { print $NF; found = 1 }')"
if [ -n "$host_libstdcxx" ] && grep -qa 'GLIBCXX_3\.4\.32' "$host_libstdcxx"; then
    exec "$@"
fi

[ "$(id -u)" = 0 ] || die "host libstdc++ (${host_libstdcxx:-not found}) lacks GLIBCXX_3.4.32 needed by TorchSharp, and creating/entering a Debian 13 chroot needs root; run as root or on a GCC 13+ distribution"
for tool in unshare chroot flock mount; do
    command -v "$tool" >/dev/null || die "'$tool' not found (util-linux/coreutils needed)"
done

# Paths that must appear at the same place inside the root.
dotnet_bin="$(command -v dotnet)" || die "'dotnet' not on PATH"
DOTNET_ROOT_DIR="${DOTNET_ROOT:-$(dirname "$(readlink -f "$dotnet_bin")")}"
DOTNET_ROOT_DIR="$(readlink -f "$DOTNET_ROOT_DIR")"
[ -x "$DOTNET_ROOT_DIR/dotnet" ] || die "no dotnet executable in DOTNET_ROOT '$DOTNET_ROOT_DIR'"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/.." && pwd))"
nuget_dir="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
mkdir -p "$nuget_dir"

binds=("$repo_root" "$PWD" "$nuget_dir" /tmp)
if [ -n "${SIM_TORCH_ENV_BINDS:-}" ]; then
    IFS=: read -r -a extra <<<"$SIM_TORCH_ENV_BINDS"
    binds+=("${extra[@]}")
fi
bind_list=""
for p in "${binds[@]}"; do
    [ -n "$p" ] || continue
    [ -e "$p" ] || die "bind path '$p' does not exist"
    p="$(readlink -f "$p")"
    case "$p" in
        # Binding these would replace the root's own system (the whole point).
        /|/usr|/lib|/lib64|/bin|/sbin|/etc|/var|/proc|/sys|/dev)
            die "refusing to bind system path '$p' into the Debian 13 root (run from inside the repo)" ;;
        "$ROOT"|"$ROOT"/*)
            die "refusing to bind '$p': it is inside the Debian 13 root" ;;
    esac
    bind_list="$bind_list${bind_list:+:}$p"
done

# Mount points under ROOT in *this* namespace (e.g. left by a killed debootstrap
# run outside a namespace). Never rm -rf a root while any exist.
mounts_under_root() {
    awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts
}

# Create the root once; the lock serialises concurrent creators.
mkdir -p "$(dirname "$ROOT")"
exec 9>"$LOCK"
flock -x 9
if [ ! -f "$MARKER" ]; then
    if [ -e "$ROOT" ]; then
        if [ -n "$(mounts_under_root)" ]; then
            die "incomplete root $ROOT still has mounts ($(mounts_under_root | tr '\n' ' ')); unmount them, then rerun"
        fi
        say "removing incomplete Debian 13 root at $ROOT"
        rm -rf --one-file-system "$ROOT"
    fi
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap (apt-get)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >&2 \
            || die "debootstrap is missing and could not be installed with apt-get"
    fi
    say "creating Debian 13 root for TorchSharp at $ROOT (one time, ~1 min)"
    log="$ROOT.debootstrap.log"
    # Inside its own mount namespace so the /proc,/sys mounts debootstrap makes
    # can never be left behind on the host if it is killed.
    if ! unshare --mount --propagation private \
            debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" ${MIRROR:+"$MIRROR"} >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "debootstrap of Debian 13 into $ROOT failed (full log: $log)"
    fi
    rm -f "$log"
    echo "debootstrap --variant=minbase --include=$PACKAGES $SUITE ${MIRROR:-default-mirror}  $(date -u +%FT%TZ)" >"$MARKER"
    say "Debian 13 root ready"
fi
# Release the lock: once the marker exists the root is never rebuilt, and the
# command (and anything it leaves running) must not hold the lock.
exec 9>&-

say "running in Debian 13 root $ROOT: $*"
export _SIM_TORCH_ENV_INNER=1 _SIM_DOTNET_ROOT="$DOTNET_ROOT_DIR" _SIM_BINDS="$bind_list"
exec unshare --mount --propagation private -- bash "$script_dir/$(basename "${BASH_SOURCE[0]}")" "$@"

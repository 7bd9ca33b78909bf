#!/usr/bin/env bash
# Runs Sim's CLI from a Release build (several times faster than `dotnet run`'s Debug build), building it first when
# it is missing or older than any source file. Usage: ./sim.sh predict TOPOLOGY WORKLOAD [PLAN] ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$root/artifacts/sim-release"
stamp="$out/.built"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
stale() {
    [ ! -f "$stamp" ] && return 0
    [ -n "$(find "$root/sim/Sim" "$root/sim/Sim.Cli" "$root/validation/profiles" "$root/Directory.Build.props" \
        \( -name bin -o -name obj \) -prune -o -type f -newer "$stamp" -print -quit 2>/dev/null)" ]
}
if stale; then
    if [ -f "$stamp" ]; then echo "sim.sh: sources changed; rebuilding Sim (Release)..." >&2
    else echo "sim.sh: building Sim (Release) the first time: restore and compile take about a minute..." >&2; fi
    log="$(mktemp)"
    if ! dotnet build "$root/sim/Sim.Cli/Sim.Cli.csproj" -c Release -o "$out" -nologo -v quiet >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"
        echo "sim.sh: the build failed (output above)" >&2
        exit 70
    fi
    rm -f "$log"
    touch "$stamp"
fi
exec dotnet "$out/sim.dll" "$@"

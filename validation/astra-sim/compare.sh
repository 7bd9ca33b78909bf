#!/usr/bin/env bash
# Runs ASTRA-sim on `sim export chakra` output and compares its iteration time with Sim's event engine.
#
#   ASTRA_SIM=path/to/AstraSim_Analytical_Congestion_Unaware validation/astra-sim/compare.sh TOPOLOGY WORKLOAD [PLAN]
#
# ASTRA_SIM is ASTRA-sim's analytical congestion-unaware binary (the congestion-aware one of the ASTRA-sim version in
# README.md takes one-dimension networks only). SIM is the sim command (default: the Debug build, else dotnet run).
# Prints one line: both iteration times (ASTRA-sim's is its slowest rank's finish tick, in ns) and their ratio.
set -euo pipefail
if [[ $# -lt 2 || -z "${ASTRA_SIM:-}" ]]; then
  echo "usage: ASTRA_SIM=path/to/AstraSim_Analytical_Congestion_Unaware $0 TOPOLOGY WORKLOAD [PLAN]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -z "${SIM:-}" ]]; then
  if [[ -x "$root/sim/Sim.Cli/bin/Debug/net10.0/sim" ]]; then SIM="$root/sim/Sim.Cli/bin/Debug/net10.0/sim"
  else SIM="dotnet run --project $root/sim/Sim.Cli --"; fi
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$SIM export chakra "$@" --out "$out/et" > "$out/export.txt"
if [[ ! -f "$out/et/network.yml" ]]; then
  cat "$out/export.txt" >&2
  echo "no ASTRA-sim network for this topology; nothing to compare" >&2
  exit 2
fi
(cd "$out" && "$ASTRA_SIM" \
  --workload-configuration="$out/et/iteration" \
  --system-configuration="$out/et/system.json" \
  --network-configuration="$out/et/network.yml" \
  --remote-memory-configuration="$out/et/remote_memory.json" \
  --comm-group-configuration="$out/et/comm_group.json" > "$out/astra.log" 2>&1) || { tail -5 "$out/astra.log" >&2; exit 1; }
ranks=$(grep -c 'finished, [0-9]* cycles' "$out/astra.log" || true)
world=$(ls "$out/et"/iteration.*.et | wc -l)
if [[ "$ranks" != "$world" ]]; then
  tail -5 "$out/astra.log" >&2
  echo "ASTRA-sim finished $ranks of $world ranks" >&2
  exit 1
fi
astra_ns=$(sed -n 's/.*finished, \([0-9]*\) cycles.*/\1/p' "$out/astra.log" | sort -n | tail -1)
sim_s=$($SIM predict "$@" --mode event --json | tr -d ' \n' | sed -n 's/.*"iteration_seconds":\([0-9.eE+-]*\).*/\1/p')
awk -v a="$astra_ns" -v s="$sim_s" -v w="$world" -v t="$1" -v m="$2" 'BEGIN {
  printf "%s %s (%d ranks): ASTRA-sim %.3f ms, Sim event %.3f ms, ASTRA-sim/Sim %.3f\n", t, m, w, a / 1e6, s * 1e3, (a / 1e9) / s }'

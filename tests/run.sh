#!/usr/bin/env bash
# The project's test command (README, .ci/run): restore, build with warnings as errors, run every test suite.
# Sim.Tests runs on the host. Harness.Tests needs TorchSharp's CPU natives, which need libstdc++ from GCC 13+;
# tests/in-torch-env.sh provides that (directly on a GCC 13+ distribution, else in a cached Debian 13 chroot,
# which needs root the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet restore Sim.sln
dotnet build Sim.sln --no-restore -c Debug -p:TreatWarningsAsErrors=true -nologo -clp:NoSummary

# The report test opens the HTML report in headless Chromium (Debian's `chromium`): installed once when missing. Where
# it cannot be installed (no root, no package mirror), that one test is skipped knowingly and the run says so.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  echo "installing chromium for the report's browser test (apt-get, once; about a minute)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  if ! { $sudo apt-get install -y -q chromium >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q chromium >/dev/null 2>&1; }; }; then
    echo "warning: chromium could not be installed; the report's browser test is skipped (SIM_SKIP_BROWSER=1)"
    export SIM_SKIP_BROWSER=1
  fi
fi

dotnet test tests/Sim.Tests --no-build -c Debug 2>&1 | tee -a "$log"
if [ -d tests/Harness.Tests ]; then
  tests/in-torch-env.sh dotnet test tests/Harness.Tests --no-build -c Debug 2>&1 | tee -a "$log"
fi

# One closing line over all suites, in the plain "N passed, N failed" form.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/usr/bin/env bash
# Usage (on the GPU machine, from the repo root, after validation/gpu/publish.sh here and carrying .gpu):
#   validation/gpu/parity.sh OUTDIR [micro] [e2e] [traces]
#
# The operator grid and the stack-parity runs (issues 14 and 15) in one go, within PARITY_BUDGET_S (default 540 s):
#   micro: the plain-PyTorch reference's operator grid (stack pytorch-eager) and `harness micro operators`
#          (harness-eager, harness-fused): what `sim calibrate` fits operator models on;
#   e2e:   every plan validation/plans/*.<G>gpu.*.yaml (G = GPUs on this machine, or PARITY_GPU_COUNT) for every
#          optimizer in PARITY_OPTIMIZERS (default "sgd rowwise_adagrad"), by the reference (torchrun, one process per
#          GPU) and the harness's eager and fused stacks: the runs `sim validate` judges, never fits.
#   traces: profiler traces of three plans by the reference (what `sim calibrate --trace` and `sim validate --trace` read).
# Writes log.txt, micro-<G>gpu.json and e2e-<G>gpu.json (JSON arrays of Measurements) and traces/ into OUTDIR.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: validation/gpu/parity.sh OUTDIR [micro] [e2e]" >&2; exit 2; }
outdir="$1"; shift
steps="${*:-micro e2e}"
mkdir -p "$outdir"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
budget="${PARITY_BUDGET_S:-540}"
start=$SECONDS
log="$outdir/log.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
say() { echo "[$(( SECONDS - start ))s] $*" | tee -a "$log" >&2; }

# step NAME MAX_SECONDS COMMAND...: runs unless the budget is spent; output goes to the log.
step() {
    local name="$1" max="$2"; shift 2
    local left=$(( budget - (SECONDS - start) ))
    if [ "$left" -lt 10 ]; then say "SKIP $name: budget spent"; return 0; fi
    local limit=$(( max < left ? max : left ))
    say "RUN  $name (limit ${limit}s)"
    echo "+ $*" >> "$log"
    local t0=$SECONDS
    timeout -k 5 "$limit" "$@" >> "$log" 2>&1
    say "DONE $name: exit $? after $(( SECONDS - t0 ))s"
}
json_array() {
    local out="$1"; shift
    python3 - "$out" "$@" <<'PY'
import json, sys
items = []
for f in sys.argv[2:]:
    try: d = json.load(open(f))
    except Exception: continue
    items.extend(d if isinstance(d, list) else [d])
json.dump(items, open(sys.argv[1], "w"), separators=(",", ":"))
PY
}

gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
count="${PARITY_GPU_COUNT:-$gpus}"
card=h100
nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 | grep -q H200 && card=h200
{
    echo "== parity: $(date -u +%Y-%m-%dT%H:%M:%SZ), $gpus GPUs ($card), steps: $steps, budget ${budget}s"
    nvidia-smi 2>&1
    nvidia-smi --query-gpu=index,name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1
    echo "== harness build: $(cat .gpu/harness/git-commit.txt 2>/dev/null || echo unknown)"
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
} >> "$log"

# The reference runner records the commit the harness was built from (the device copy's git metadata may be stale).
[ -z "${REFERENCE_GIT_COMMIT:-}" ] && [ -f .gpu/harness/git-commit.txt ] && export REFERENCE_GIT_COMMIT="$(cat .gpu/harness/git-commit.txt)"
# The reference runner, one process per GPU (an array, not a function: `timeout` runs programs only).
ref=(python3 validation/reference/dlrm_reference.py)
[ "$count" -gt 1 ] && ref=(python3 -m torch.distributed.run --standalone --nproc_per_node="$count" validation/reference/dlrm_reference.py)

if [[ " $steps " == *" micro "* ]]; then
    step "reference micro" 260 python3 validation/reference/dlrm_reference.py micro --device cuda --out "$work/micro-ref.json"
    step "harness micro operators" 200 validation/gpu/run-on-gpu.sh "$work" micro operators --device cuda --compact --out "$work/micro-harness.json"
    json_array "$outdir/micro-${count}gpu.json" "$work/micro-ref.json" "$work/micro-harness.json"
fi

if [[ " $steps " == *" e2e "* ]]; then
    e2e=()
    for plan in validation/plans/*."$count"gpu.*.yaml; do
        [ -e "$plan" ] || continue
        name="$(basename "$plan" .yaml)"
        workload="workloads/validation/${name%%.*}.yaml"
        topo="topologies/${card}x$count.yaml"
        for opt in ${PARITY_OPTIMIZERS:-sgd rowwise_adagrad}; do
            out="$work/$name.$opt.pytorch.json"
            [ "${PARITY_REFERENCE:-1}" = 1 ] && step "reference $name $opt" 90 "${ref[@]}" run "$topo" "$workload" "$plan" --device cuda --optimizer "$opt" --iterations 20 --warmup 5 --seed 1 --out "$out"
            [ "${PARITY_REFERENCE:-1}" = 1 ] && e2e+=("$out")
            for stack in ${PARITY_STACKS-eager fused}; do
                out="$work/$name.$opt.$stack.json"
                step "harness $stack $name $opt" 90 validation/gpu/run-on-gpu.sh "$work" run "$topo" "$workload" "$plan" --device cuda \
                    --stack "$stack" --optimizer "$opt" --iterations 20 --warmup 5 --seed 1 --compact --out "$out"
                e2e+=("$out")
            done
        done
    done
    json_array "$outdir/e2e-${count}gpu.json" "${e2e[@]}"
fi
# traces: PyTorch profiler (Kineto) traces of a few plans by the reference (issue 19): `sim calibrate --trace` fits on
# one, `sim validate --trace` judges another. Two profiled iterations each (record_shapes on), gzipped, per rank.
if [[ " $steps " == *" traces "* ]]; then
    mkdir -p "$outdir/traces"
    for plan in ${PARITY_TRACE_PLANS:-validation/plans/val-base.${count}gpu.tw.yaml validation/plans/val-base.${count}gpu.rw.yaml validation/plans/val-base.${count}gpu.cw.yaml}; do
        [ -e "$plan" ] || { say "SKIP trace $plan: no such plan"; continue; }
        name="$(basename "$plan" .yaml)"
        workload="workloads/validation/${name%%.*}.yaml"
        step "trace $name" 90 "${ref[@]}" run "topologies/${card}x$count.yaml" "$workload" "$plan" --device cuda --iterations 3 --warmup 3 \
            --profile-busy 2 --seed 1 --trace "$outdir/traces/$name.json" --out "$outdir/traces/$name.run.json"
    done
    # No path of the device machine in what gets committed (Kineto writes the trace's own path as traceName).
    sed -i "s#$root/##g; s#/tmp/[A-Za-z0-9._-]*/##g" "$outdir"/traces/*.json 2>/dev/null || true
    gzip -9f "$outdir"/traces/*.json 2>/dev/null || true
fi
say "parity done in $(( SECONDS - start ))s: $(ls "$outdir" | tr '\n' ' ')"

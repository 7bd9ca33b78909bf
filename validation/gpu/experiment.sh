#!/usr/bin/env bash
# Usage (on the GPU machine, from the repo root, after validation/gpu/publish.sh here and carrying .gpu):
#   validation/gpu/experiment.sh OUTDIR
#
# The whole validation experiment in one go, within a time budget (EXPERIMENT_BUDGET_S, default 480 s):
#   1. `harness run` (warm-up 5, 20 measured iterations) of every plan validation/plans/*.<G>gpu.*.yaml, for each G in
#      EXPERIMENT_GPU_COUNTS (default: the number of GPUs on this machine; "2 4" on a 4-GPU machine measures both),
#      against topologies/<card>x<G>.yaml (card h100 or h200, from nvidia-smi) and workloads/validation/<workload>.yaml,
#      once for each stack in EXPERIMENT_STACKS (default "eager fused") and each optimizer in EXPERIMENT_OPTIMIZERS
#      (default "sgd rowwise_adagrad"; `--stack`, `--optimizer`);
#   2. `harness micro collectives` on every world size 1..G, 1 KiB to 1 GiB;
#   3. `harness micro gemm` (the validation workloads' MLP shapes at their local batches on 2 and 4 GPUs, and squares);
#   4. `harness micro embedding` (EmbeddingBag forward and fused backward over rows x dim x pooling x batch);
#   5. `harness micro operators` (the operator grid of each stack in EXPERIMENT_STACKS).
# Writes at most three files into OUTDIR: log.txt (nvidia-smi, every command, its output and exit code),
# e2e-<G>gpu.json (a JSON array of Measurements, one per plan, stack and optimizer) and micro-<G>gpu.json (a JSON
# array of Measurements).
# A step that fails still leaves its measurement (status "failed") and the others go on.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: validation/gpu/experiment.sh OUTDIR" >&2; exit 2; }
outdir="$1"
mkdir -p "$outdir"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

budget="${EXPERIMENT_BUDGET_S:-480}"
start=$SECONDS
log="$outdir/log.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: > "$log"
say() { echo "[$(( SECONDS - start ))s] $*" | tee -a "$log" >&2; }

export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

# step NAME MAX_SECONDS MIN_SECONDS HARNESS_ARGS...: runs the harness unless less than MIN_SECONDS of budget are left.
step() {
    local name="$1" max="$2" min="$3"; shift 3
    local left=$(( budget - (SECONDS - start) ))
    if [ "$left" -lt "$min" ]; then
        say "SKIP $name: ${left}s of budget left, needs ${min}s"
        return 0
    fi
    local limit=$(( max < left ? max : left ))
    say "RUN  $name (limit ${limit}s): harness $*"
    local t0=$SECONDS
    timeout -k 10 "$limit" validation/gpu/run-on-gpu.sh "$work" "$@" >> "$log" 2>&1
    local rc=$?
    say "DONE $name: exit $rc after $(( SECONDS - t0 ))s"
}

# json_array OUT FILES...: the files' JSON objects as one JSON array (files that are missing are left out).
json_array() {
    local out="$1"; shift
    local first=1
    {
        echo "["
        for f in "$@"; do
            [ -s "$f" ] || continue
            [ "$first" = 1 ] || echo ","
            cat "$f"
            first=0
        done
        echo "]"
    } > "$out"
}

gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
{
    echo "== experiment: $(date -u +%Y-%m-%dT%H:%M:%SZ), $gpus GPUs, budget ${budget}s"
    echo "== nvidia-smi"; nvidia-smi 2>&1
    echo "== nvidia-smi topo -m"; nvidia-smi topo -m 2>&1
    echo "== nvidia-smi --query-gpu"
    nvidia-smi --query-gpu=index,name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1
    echo "== harness build: $(cat .gpu/harness/git-commit.txt 2>/dev/null || echo unknown)"
} >> "$log"
[ "$gpus" -ge 1 ] || { say "no GPU found"; exit 1; }

# The topology files name the card: H200 machines are measured against topologies/h200x<G>.yaml.
card=h100
nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 | grep -q H200 && card=h200

# 1. End-to-end runs of the plans for each GPU count.
for count in ${EXPERIMENT_GPU_COUNTS:-$gpus}; do
    e2e=()
    for plan in validation/plans/*."$count"gpu.*.yaml; do
        [ -e "$plan" ] || continue
        name="$(basename "$plan" .yaml)"
        workload="workloads/validation/${name%%.*}.yaml"
        for stack in ${EXPERIMENT_STACKS:-eager fused}; do
            for optimizer in ${EXPERIMENT_OPTIMIZERS:-sgd rowwise_adagrad}; do
                out="$work/e2e-$name.$stack.$optimizer.json"
                step "run $name $stack $optimizer" 120 30 run "topologies/${card}x$count.yaml" "$workload" "$plan" \
                    --device cuda --iterations 20 --warmup 5 --seed 1 --stack "$stack" --optimizer "$optimizer" --compact --out "$out"
                e2e+=("$out")
            done
        done
    done
    json_array "$outdir/e2e-${count}gpu.json" "${e2e[@]}"
done

# 2-4. Microbenchmarks.
# EXPERIMENT_COLLECTIVE_SIZES (e.g. 1K,2K,...,1G) replaces the default powers of 4 with a denser sweep.
step "micro collectives" 180 60 micro collectives --device cuda --world "$gpus" --compact --out "$work/micro-collectives.json" \
    ${EXPERIMENT_COLLECTIVE_SIZES:+--sizes "$EXPERIMENT_COLLECTIVE_SIZES"}
step "micro gemm" 120 40 micro gemm --device cuda --world 2,4 --compact --out "$work/micro-gemm.json" \
    --workloads workloads/validation/val-base.yaml workloads/validation/val-largebatch.yaml \
                workloads/validation/val-widedim.yaml workloads/validation/val-manytables.yaml
step "micro embedding" 150 40 micro embedding --device cuda --compact --out "$work/micro-embedding.json"
stacks_csv="$(echo ${EXPERIMENT_STACKS:-eager fused} | tr ' ' ',')"
step "micro operators" 240 60 micro operators --device cuda --stacks "$stacks_csv" --compact --out "$work/micro-operators.json"
json_array "$outdir/micro-${gpus}gpu.json" "$work/micro-collectives.json" "$work/micro-gemm.json" "$work/micro-embedding.json" \
    "$work/micro-operators.json"

say "experiment done in $(( SECONDS - start ))s: $(ls "$outdir" | tr '\n' ' ')"

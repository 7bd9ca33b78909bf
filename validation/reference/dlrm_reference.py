#!/usr/bin/env python3
"""Plain-PyTorch reference runner for Sim's validation scenarios (the "pytorch-eager" stack).

Two commands, each writing one Measurement JSON object (schema: sim/Sim/Validation/Measurement.cs):

  run TOPOLOGY WORKLOAD PLAN ...   trains the sharded DLRM with torch.distributed (one process per GPU, launched
                                   with torch.distributed.run; or plainly for one rank) in the nine phases of the
                                   C# harness, timing each phase.
  micro ...                        the operator grid (issue 14) for the pytorch-eager stack on one device.

Only torch, torch.distributed, pyyaml and the standard library are used. See validation/reference/README.md.
"""

import argparse
import contextlib
import datetime
import glob
import hashlib
import json
import math
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
import warnings

SCRIPT = "validation/reference/dlrm_reference.py"
STACK = "pytorch-eager"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

PHASES = [
    "input_distribution", "embedding_lookup", "all_to_all_forward", "dense_forward", "dense_backward",
    "all_to_all_backward", "embedding_backward", "all_reduce", "dense_optimizer",
]
EPS = 1e-8
MAX_EMBEDDED_BYTES = 64 * 1024


class InputError(Exception):
    """Bad input: reported as one line `error: FILE: FIELD: problem`, exit code 2."""

    def __init__(self, file, field, problem):
        super().__init__(f"{file}: {field}: {problem}" if field else f"{file}: {problem}")


def fail_input(e):
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------------------------------------------
# Paths, provenance, JSON
# ----------------------------------------------------------------------------------------------------------------

def display_name(path):
    """Repo-relative name of a path (never an absolute machine path): its base name if outside the repo."""
    full = os.path.abspath(path)
    rel = os.path.relpath(full, REPO)
    if rel.startswith(".."):
        return os.path.basename(full)
    return rel.replace(os.sep, "/")


def quote_arg(a):
    ok = "-_./=:,+@%"
    if a and all(c.isalnum() or c in ok for c in a):
        return a
    return shlex.quote(a)


def command_line(argv):
    out = []
    for a in argv:
        if os.path.isabs(a) or (("/" in a or a.endswith((".yaml", ".yml", ".json"))) and os.path.exists(a)):
            a = display_name(a)
        elif a.startswith("--out=") or a.startswith("--out "):
            a = "--out=" + display_name(a[6:])
        out.append(quote_arg(a))
    return " ".join(["python3", SCRIPT] + out)


def run_quiet(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, cwd=REPO)
        if p.returncode != 0:
            return None
        return p.stdout.decode("utf-8", "replace").strip()
    except Exception:
        return None


def git_commit():
    env = os.environ.get("REFERENCE_GIT_COMMIT", "").strip()
    if env:
        return env
    head = run_quiet(["git", "rev-parse", "HEAD"])
    if head:
        status = run_quiet(["git", "status", "--porcelain", "--untracked-files=no"])
        return head + ("+dirty" if status else "")
    f = os.path.join(HERE, "git-commit.txt")
    try:
        with open(f, "r", encoding="utf-8") as fh:
            text = fh.read().strip()
            if text:
                return text
    except OSError:
        pass
    return "unknown"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance(torch, device, argv, date):
    import re
    prov = {
        "device": device, "gpu_model": "cpu", "gpu_count": 0, "driver": "", "cuda": "", "cuda_driver": "", "nccl": "",
        "libtorch": torch.__version__, "torch_sharp": "none", "dotnet": "none", "date_utc": date,
        "git_commit": git_commit(), "command_line": command_line(argv), "stack": STACK,
        "python": platform.python_version(),
    }
    if device != "cuda":
        return prov
    try:
        prov["gpu_model"] = torch.cuda.get_device_name(0)
    except Exception:
        prov["gpu_model"] = "unknown"
    prov["gpu_count"] = torch.cuda.device_count()
    drv = run_quiet(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    prov["driver"] = drv.splitlines()[0].strip() if drv else ""
    prov["cuda"] = torch.version.cuda or ""
    smi = run_quiet(["nvidia-smi"])
    m = re.search(r"CUDA Version:\s*([0-9.]+)", smi or "")
    prov["cuda_driver"] = m.group(1) if m else ""
    try:
        v = torch.cuda.nccl.version()
        prov["nccl"] = ".".join(str(x) for x in v) if isinstance(v, tuple) else str(v)
    except Exception:
        prov["nccl"] = ""
    return prov


def input_record(role, path):
    with open(path, "rb") as fh:
        data = fh.read()
    rec = {"role": role, "name": display_name(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if len(data) <= MAX_EMBEDDED_BYTES:
        rec["content"] = data.decode("utf-8", "replace")
    return rec


def write_atomically(path, text):
    full = os.path.abspath(path)
    d = os.path.dirname(full)
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, f".{os.path.basename(full)}.{os.getpid()}.{time.time_ns()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, full)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def finite(x):
    x = float(x)
    return x if math.isfinite(x) else 0.0


def emit(measurement, out, compact):
    text = json.dumps(measurement, indent=None if compact else 2, allow_nan=False) + "\n"
    if out:
        write_atomically(out, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


# ----------------------------------------------------------------------------------------------------------------
# Input files: the YAML subset the validation workloads, plans and topologies use
# ----------------------------------------------------------------------------------------------------------------

def load_yaml(path):
    import yaml
    name = display_name(path)
    if not os.path.isfile(path):
        raise InputError(name, "", "file not found")
    try:
        with open(path, "r", encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise InputError(name, where, f"malformed YAML: {getattr(e, 'problem', None) or e}".replace("\n", " "))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(name, "", f"cannot read: {e}")
    if not isinstance(doc, dict):
        raise InputError(name, "", "expected a mapping at the top level")
    return name, doc


def _int(file, field, v, lo=None, hi=None):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and (not v.is_integer())):
        raise InputError(file, field, f"expected an integer, found {v!r}")
    v = int(v)
    if lo is not None and v < lo:
        raise InputError(file, field, f"must be at least {lo}, found {v}")
    if hi is not None and v > hi:
        raise InputError(file, field, f"must be at most {hi}, found {v}")
    return v


def _num(file, field, v, lo_exclusive=None):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise InputError(file, field, f"expected a number, found {v!r}")
    if lo_exclusive is not None and not v > lo_exclusive:
        raise InputError(file, field, f"must be greater than {lo_exclusive}, found {v}")
    return float(v)


def _str(file, field, v):
    if not isinstance(v, str) or not v:
        raise InputError(file, field, f"expected a non-empty string, found {v!r}")
    return v


def _no_unknown(file, prefix, m, known, unsupported=()):
    for k in m:
        f = f"{prefix}{k}"
        if k in unsupported:
            raise InputError(file, f, "not supported by the reference runner (it trains plain DLRMs: bottom MLP, dot interaction, top MLP)")
        if k not in known:
            raise InputError(file, f, "unknown field")


def round_half_away(x):
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


class Table:
    def __init__(self, name, rows, dim, pooling):
        self.name, self.rows, self.dim, self.pooling = name, rows, dim, pooling
        self.lookups = max(1, round_half_away(pooling))


class Workload:
    pass


DTYPES = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int32", "int64")


def load_workload(path):
    file, d = load_yaml(path)
    _no_unknown(file, "", d, {"name", "source", "description", "batch_size", "dense_features", "bottom_mlp", "interaction",
                              "top_mlp", "optimizer", "precision", "tables", "default_scheme"},
                unsupported={"dcn", "sequence_layers", "tsl"})
    w = Workload()
    for req in ("name", "source", "batch_size", "dense_features", "bottom_mlp", "top_mlp", "tables"):
        if req not in d:
            raise InputError(file, req, "required field is missing")
    w.file = file
    w.name = _str(file, "name", d["name"])
    w.batch = _int(file, "batch_size", d["batch_size"], 1)
    w.dense_features = _int(file, "dense_features", d["dense_features"], 1)
    inter = d.get("interaction", "dot")
    if inter != "dot":
        raise InputError(file, "interaction", f"the reference runner trains the dot interaction only, not {inter!r}")

    def widths(key):
        v = d[key]
        if not isinstance(v, list) or not v:
            raise InputError(file, key, "expected a non-empty list of widths")
        return [_int(file, f"{key}[{i}]", x, 1, 1 << 24) for i, x in enumerate(v)]

    w.bottom = widths("bottom_mlp")
    w.top = widths("top_mlp")
    opt = d.get("optimizer", "sgd")
    if opt not in ("sgd", "rowwise_adagrad"):
        raise InputError(file, "optimizer", f"expected sgd or rowwise_adagrad, found {opt!r}")
    w.optimizer = opt
    p = d.get("precision") or {}
    if not isinstance(p, dict):
        raise InputError(file, "precision", "expected a mapping")
    _no_unknown(file, "precision.", p, {"compute", "all_to_all_forward", "all_to_all_backward", "all_reduce", "index"})
    prec = {}
    for key, default, allowed in (("compute", "fp32", ("fp32", "tf32")),
                                  ("all_to_all_forward", "fp32", ("fp32", "fp16", "bf16")),
                                  ("all_to_all_backward", "fp32", ("fp32", "fp16", "bf16")),
                                  ("all_reduce", "fp32", ("fp32", "fp16", "bf16")),
                                  ("index", "int64", ("int32", "int64"))):
        v = p.get(key, default)
        if v not in DTYPES:
            raise InputError(file, f"precision.{key}", f"{v!r} is not a dtype")
        if v not in allowed:
            raise InputError(file, f"precision.{key}", f"the reference runner supports {', '.join(allowed)} here, not {v}")
        prec[key] = v
    w.precision = prec
    tl = d["tables"]
    if not isinstance(tl, list) or not tl:
        raise InputError(file, "tables", "expected a non-empty list of tables")
    tables = []
    for i, t in enumerate(tl):
        f = f"tables[{i}]"
        if not isinstance(t, dict):
            raise InputError(file, f, "expected a mapping")
        _no_unknown(file, f + ".", t, {"name", "rows", "dim", "pooling_factor", "count", "dtype", "access"},
                    unsupported={"sequence", "negative_samples", "scale_bias_dtype"})
        for req in ("name", "rows", "dim", "pooling_factor"):
            if req not in t:
                raise InputError(file, f"{f}.{req}", "required field is missing")
        name = _str(file, f + ".name", t["name"])
        rows = _int(file, f + ".rows", t["rows"], 1, 10 ** 15)
        dim = _int(file, f + ".dim", t["dim"], 1, 65536)
        pool = _num(file, f + ".pooling_factor", t["pooling_factor"], lo_exclusive=0)
        count = _int(file, f + ".count", t.get("count", 1), 1, 1 << 20)
        if t.get("dtype", "fp32") != "fp32":
            raise InputError(file, f + ".dtype", f"the reference runner stores tables in fp32, not {t.get('dtype')!r}")
        if t.get("access", "uniform") != "uniform":
            raise InputError(file, f + ".access", "the reference runner draws indices uniformly; only access: uniform is supported")
        if count == 1 and "count" not in t:
            tables.append(Table(name, rows, dim, pool))
        else:
            tables.extend(Table(f"{name}_{k}", rows, dim, pool) for k in range(count))
    seen = set()
    for t in tables:
        if t.name in seen:
            raise InputError(file, "tables", f"table name '{t.name}' appears twice")
        seen.add(t.name)
    w.tables = tables
    dlast = w.bottom[-1]
    for i, t in enumerate(tables):
        if t.dim != dlast:
            raise InputError(file, f"tables.{t.name}.dim",
                             f"the dot interaction needs every dim equal to the bottom MLP's last width ({dlast}), found {t.dim}")
    if w.top[-1] != 1:
        raise InputError(file, "top_mlp", f"the top MLP must end in one logit, found width {w.top[-1]}")
    f_vec = len(tables) + 1
    w.interaction_vectors = f_vec
    w.top_in = dlast + f_vec * (f_vec - 1) // 2
    layers = []
    prev = w.dense_features
    for o in w.bottom:
        layers.append((prev, o))
        prev = o
    prev = w.top_in
    for o in w.top:
        layers.append((prev, o))
        prev = o
    w.layers = layers  # (in, out), bottom then top
    return w


def load_topology(path):
    file, d = load_yaml(path)
    for req in ("name", "nodes", "gpus_per_node"):
        if req not in d:
            raise InputError(file, req, "required field is missing")
    name = _str(file, "name", d["name"])
    nodes = _int(file, "nodes", d["nodes"], 1)
    gpn = _int(file, "gpus_per_node", d["gpus_per_node"], 1)
    return file, name, nodes * gpn


SCHEMES = ("table_wise", "row_wise", "column_wise", "data_parallel")
OTHER_SCHEMES = ("table_row_wise", "table_column_wise", "grid", "grid_shard")


def even_split(n, k):
    q, r = divmod(n, k)
    out, off = [], 0
    for i in range(k):
        c = q + (1 if i < r else 0)
        out.append((off, c))
        off += c
    return out


class Shard:
    def __init__(self, rank, row_offset, rows, col_offset, cols):
        self.rank, self.row_offset, self.rows, self.col_offset, self.cols = rank, row_offset, rows, col_offset, cols


def load_plan(path, w, world):
    file, d = load_yaml(path)
    _no_unknown(file, "", d, {"name", "description", "tables", "schedule"})
    name = d.get("name", "plan")
    name = _str(file, "name", name)
    tm = d.get("tables")
    if not isinstance(tm, dict):
        raise InputError(file, "tables", "required mapping of table name to placement is missing")
    by_name = {t.name: (i, t) for i, t in enumerate(w.tables)}
    plans = {}
    for tname, m in tm.items():
        f = f"tables.{tname}"
        if tname not in by_name:
            raise InputError(file, f, f"workload '{w.name}' has no table named '{tname}'")
        if not isinstance(m, dict):
            raise InputError(file, f, "expected a mapping")
        _no_unknown(file, f + ".", m, {"scheme", "ranks", "shards", "splits", "memory"}, unsupported=("cache_fraction",))
        table = by_name[tname][1]
        scheme = m.get("scheme")
        if scheme in OTHER_SCHEMES:
            raise InputError(file, f + ".scheme", f"the reference runner runs table_wise, row_wise, column_wise and data_parallel, not {scheme}")
        if scheme not in SCHEMES:
            raise InputError(file, f + ".scheme", f"expected one of {', '.join(SCHEMES)}, found {scheme!r}")
        if m.get("memory", "hbm") != "hbm":
            raise InputError(file, f + ".memory", "the reference runner keeps tables in HBM only")
        if scheme == "data_parallel" and "ranks" not in m:
            ranks = list(range(world))
        else:
            r = m.get("ranks")
            if not isinstance(r, list) or not r:
                raise InputError(file, f + ".ranks", "expected a non-empty list of ranks")
            ranks = [_int(file, f"{f}.ranks[{i}]", x, 0) for i, x in enumerate(r)]
        for i, rk in enumerate(ranks):
            if rk >= world:
                raise InputError(file, f"{f}.ranks[{i}]", f"rank {rk} does not exist: the cluster has {world} GPUs (ranks 0..{world - 1})")
        if "shards" in m and _int(file, f + ".shards", m["shards"], 1) != len(ranks):
            raise InputError(file, f + ".shards", f"shards is {m['shards']} but {len(ranks)} ranks are listed; list one rank per shard")
        if len(set(ranks)) != len(ranks):
            raise InputError(file, f + ".ranks", "a rank is listed twice; each shard needs its own rank")
        if scheme == "table_wise" and len(ranks) != 1:
            raise InputError(file, f + ".ranks", f"table_wise places the whole table on one rank, found {len(ranks)}")
        if scheme == "row_wise" and table.rows < len(ranks):
            raise InputError(file, f + ".ranks", f"row_wise over {len(ranks)} ranks needs at least {len(ranks)} rows, table '{tname}' has {table.rows}")
        if scheme == "column_wise" and table.dim < len(ranks):
            raise InputError(file, f + ".ranks", f"column_wise over {len(ranks)} ranks needs dim of at least {len(ranks)}, table '{tname}' has {table.dim}")
        if scheme == "data_parallel" and len(ranks) != world:
            raise InputError(file, f + ".ranks", f"a data_parallel table must be replicated on all {world} ranks, found {len(ranks)}")
        splits = m.get("splits")
        whole = table.rows if scheme == "row_wise" else table.dim if scheme == "column_wise" else None
        if splits is not None:
            if whole is None:
                raise InputError(file, f + ".splits", "only row- or column-split schemes take splits")
            if not isinstance(splits, list):
                raise InputError(file, f + ".splits", "expected a list of sizes")
            splits = [_int(file, f"{f}.splits[{i}]", x, 1) for i, x in enumerate(splits)]
            if len(splits) != len(ranks) or sum(splits) != whole:
                raise InputError(file, f + ".splits", f"expected {len(ranks)} sizes (one per rank) adding up to {whole}, found {len(splits)} adding up to {sum(splits)}")
            parts, off = [], 0
            for s in splits:
                parts.append((off, s))
                off += s
        elif whole is not None:
            parts = even_split(whole, len(ranks))
        if scheme == "table_wise":
            shards = [Shard(ranks[0], 0, table.rows, 0, table.dim)]
        elif scheme == "row_wise":
            shards = [Shard(ranks[i], o, c, 0, table.dim) for i, (o, c) in enumerate(parts)]
        elif scheme == "column_wise":
            shards = [Shard(ranks[i], 0, table.rows, o, c) for i, (o, c) in enumerate(parts)]
        else:
            shards = [Shard(rk, 0, table.rows, 0, table.dim) for rk in ranks]
        plans[tname] = (scheme, shards)
    for t in w.tables:
        if t.name not in plans:
            raise InputError(file, "tables", f"table '{t.name}' of workload '{w.name}' has no entry ({len(w.tables) - len(plans)} of {len(w.tables)} tables missing)")
    return file, name, [plans[t.name] for t in w.tables]


class OwnedShard:
    def __init__(self, table, shard_index, shard, scheme, pooled_column, rw_slot):
        self.table, self.shard_index, self.shard, self.scheme = table, shard_index, shard, scheme
        self.pooled_column, self.rw_slot = pooled_column, rw_slot


class Layout:
    """Mirror of validation/Harness/Training/EmbeddingLayout.cs."""

    def __init__(self, w, plan_tables, world, global_batch):
        self.world = world
        self.B = global_batch
        self.b = global_batch // world
        self.tables = []  # (index, table, scheme, shards, lookups)
        self.owned = [[] for _ in range(world)]
        self.width = [0] * world
        self.rw_owned = [0] * world
        self.dp = []
        self.by_shard = {}
        for t, (scheme, shards) in enumerate(plan_tables):
            table = w.tables[t]
            self.tables.append((t, table, scheme, shards, table.lookups))
            if scheme == "data_parallel":
                self.dp.append(t)
                continue
            for k, s in enumerate(shards):
                slot = -1
                if scheme == "row_wise":
                    slot = self.rw_owned[s.rank]
                    self.rw_owned[s.rank] += 1
                o = OwnedShard(t, k, s, scheme, self.width[s.rank], slot)
                self.owned[s.rank].append(o)
                self.by_shard[(t, k)] = o
                self.width[s.rank] += s.cols
        self.any_sharded = any(len(o) > 0 for o in self.owned)
        self.any_row_wise = any(n > 0 for n in self.rw_owned)

    def pooled_from(self, src):
        return self.b * self.width[src]


# ----------------------------------------------------------------------------------------------------------------
# Deterministic initialisation and data (mirrors Seeds.cs, TableInit.cs, DenseModel.cs, BatchGenerator.cs)
# ----------------------------------------------------------------------------------------------------------------

M64 = (1 << 64) - 1
TABLE_STREAM, DENSE_STREAM, DATA_STREAM = 0x7AB1E, 0xDE45E, 0xDA7A


def mix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def derive(seed, *parts):
    h = mix(seed & M64)
    for p in parts:
        h = mix(h ^ (p & M64))
    return h


def table_block(torch, device, seed, table_index, table_rows, row_offset, rows, col_offset, cols):
    """TableInit.Fill: a pure function of (seed, table, global row, global column), exact int64 arithmetic."""
    P = 2147483647
    M1, M2, M3, K1, K2 = 1103515245, 69069, 1664525, 1013904223, 12345
    out = torch.empty(rows, cols, dtype=torch.float32, device=device)
    if rows == 0 or cols == 0:
        return out
    base = derive(seed, TABLE_STREAM, table_index) % P
    scale = 1.0 / math.sqrt(table_rows)
    chunk = max(1, (1 << 24) // cols)
    with torch.no_grad():
        col = torch.arange(col_offset, col_offset + cols, dtype=torch.int64, device=device).unsqueeze(0)
        colm = (col * M1).remainder(P)
        for r0 in range(0, rows, chunk):
            n = min(chunk, rows - r0)
            row = torch.arange(row_offset + r0, row_offset + r0 + n, dtype=torch.int64, device=device).unsqueeze(1)
            lo = row.remainder(P)
            hi = torch.div(row, P, rounding_mode="floor")
            h = (lo * M1 + base).remainder(P)
            h = (h * M2 + hi).remainder(P)
            h = (h * M3 + colm).remainder(P)
            h = (h * h + K1).remainder(P)
            h = (h * M2 + K2).remainder(P)
            h = (h * h + col).remainder(P)
            u = h.to(torch.float64) / float(P)
            out.narrow(0, r0, n).copy_(((u * 2.0 - 1.0) * scale).to(torch.float32))
    return out


def dense_params(torch, w, seed, device):
    ps = []
    for i, (fan_in, fan_out) in enumerate(w.layers):
        g = torch.Generator()
        g.manual_seed(derive(seed, DENSE_STREAM, i))
        wt = torch.randn(fan_out, fan_in, dtype=torch.float32, generator=g) * math.sqrt(2.0 / (fan_in + fan_out))
        bs = torch.randn(fan_out, dtype=torch.float32, generator=g) * math.sqrt(1.0 / fan_out)
        ps.append(wt.to(device).requires_grad_(True))
        ps.append(bs.to(device).requires_grad_(True))
    return ps


def global_batch(torch, w, seed, iteration, B):
    """The global batch of an iteration, on the host: the same for every world size (ranks take slices)."""
    g = torch.Generator()
    g.manual_seed(derive(seed, DATA_STREAM, iteration))
    dense = torch.rand(B, w.dense_features, dtype=torch.float32, generator=g)
    labels = torch.randint(0, 2, (B,), dtype=torch.int64, generator=g).to(torch.float32)
    indices = [torch.randint(0, t.rows, (B * t.lookups,), dtype=torch.int64, generator=g) for t in w.tables]
    return dense, labels, indices


def local_batch(torch, w, glob_batch, rank, b, device):
    dense, labels, indices = glob_batch
    pin = device.type == "cuda"

    def mv(t):
        t = t.contiguous()
        if pin:
            t = t.pin_memory()
        return t.to(device, non_blocking=pin)

    ld = mv(dense.narrow(0, rank * b, b))
    ll = mv(labels.narrow(0, rank * b, b))
    li = [mv(idx.narrow(0, rank * b * t.lookups, b * t.lookups)) for idx, t in zip(indices, w.tables)]
    return ld, ll, li


def set_tf32(torch, on):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.backends.cuda.matmul.allow_tf32 = bool(on)
        except Exception:
            torch.set_float32_matmul_precision("high" if on else "highest")
        try:
            torch.backends.cudnn.allow_tf32 = bool(on)
        except Exception:
            pass


# ----------------------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------------------

class PhaseTimer:
    """CUDA events on the current stream (cuda) or perf_counter (cpu), one pair per phase."""

    def __init__(self, torch, device):
        self.torch = torch
        self.cuda = device.type == "cuda"
        n = len(PHASES)
        if self.cuda:
            self.start = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
            self.end = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        self.cpu = [0.0] * n

    def begin(self, p):
        if self.cuda:
            self.start[p].record()
        else:
            self.cpu[p] = time.perf_counter()

    def finish(self, p):
        if self.cuda:
            self.end[p].record()
        else:
            self.cpu[p] = time.perf_counter() - self.cpu[p]

    def phases(self):
        """Seconds per phase; call after the device is idle."""
        if self.cuda:
            return [self.start[p].elapsed_time(self.end[p]) / 1e3 for p in range(len(PHASES))]
        return list(self.cpu)


class PhaseFailure(Exception):
    def __init__(self, rank, phase, error):
        super().__init__(f"rank {rank}: {phase}: {error}")
        self.rank, self.phase, self.error = rank, phase, error


# ----------------------------------------------------------------------------------------------------------------
# One rank's trainer (the eager stack)
# ----------------------------------------------------------------------------------------------------------------

TORCH_DTYPES = {}


def torch_dtype(torch, name):
    return {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
            "int32": torch.int32, "int64": torch.int64}[name]


def sparse_step(torch, bag, state, lr):
    """The eager sparse optimizer step on one EmbeddingBag(sparse=True) whose weight.grad is set."""
    w = bag.weight
    with torch.no_grad():
        if state is None:
            w.data.add_(w.grad, alpha=-lr)
        else:
            g = w.grad.coalesce()
            idx = g.indices()[0]
            v = g.values()
            state.index_add_(0, idx, v.pow(2).mean(1))
            w.data.index_add_(0, idx, v / (state.index_select(0, idx).sqrt() + EPS).unsqueeze(1), alpha=-lr)
    w.grad = None


def dense_step(torch, p, g, state, lr):
    """SGD, or Adagrad per element (state += g², p -= lr·g/(sqrt(state)+eps))."""
    with torch.no_grad():
        if state is None:
            p.add_(g, alpha=-lr)
        else:
            state.addcmul_(g, g)
            p.addcdiv_(g, state.sqrt().add_(EPS), value=-lr)


class Trainer:
    def __init__(self, torch, dist, w, layout, rank, device, seed, lr, optimizer):
        import torch.nn.functional as F
        self.torch, self.dist, self.F = torch, dist, F
        self.w, self.L, self.rank, self.device, self.lr = w, layout, rank, device, lr
        self.record = None  # record_function while the profiler runs (step sets it)
        self.world = layout.world
        self.b, self.B = layout.b, layout.B
        self.adagrad = optimizer == "rowwise_adagrad"
        p = w.precision
        self.index_t = torch_dtype(torch, p["index"])
        self.fwd_t = torch_dtype(torch, p["all_to_all_forward"])
        self.bwd_t = torch_dtype(torch, p["all_to_all_backward"])
        self.red_t = torch_dtype(torch, p["all_reduce"])
        nn = torch.nn
        self.owned = layout.owned[rank]
        self.bags, self.states, self.fixed_offsets = [], [], []
        for o in self.owned:
            _, table, _, _, lookups = layout.tables[o.table]
            s = o.shard
            wt = table_block(torch, device, seed, o.table, table.rows, s.row_offset, s.rows, s.col_offset, s.cols)
            self.bags.append(nn.EmbeddingBag(s.rows, s.cols, mode="sum", sparse=True, _weight=wt))
            self.states.append(torch.zeros(s.rows, dtype=torch.float32, device=device) if self.adagrad else None)
            self.fixed_offsets.append(None if o.scheme == "row_wise" else
                                      torch.arange(0, self.B * lookups, lookups, dtype=torch.int64, device=device))
        self.dp_bags, self.dp_states, self.dp_offsets = {}, {}, {}
        for t in layout.dp:
            _, table, _, _, lookups = layout.tables[t]
            wt = table_block(torch, device, seed, t, table.rows, 0, table.rows, 0, table.dim)
            self.dp_bags[t] = nn.EmbeddingBag(table.rows, table.dim, mode="sum", sparse=False, _weight=wt)
            self.dp_states[t] = torch.zeros(table.rows, dtype=torch.float32, device=device) if self.adagrad else None
            self.dp_offsets[t] = torch.arange(0, self.b * lookups, lookups, dtype=torch.int64, device=device)
        self.row_starts, self.row_bounds = {}, {}
        for (t, table, scheme, shards, _) in layout.tables:
            if scheme == "row_wise":
                starts = [s.row_offset for s in shards]
                self.row_starts[t] = torch.tensor(starts, dtype=torch.int64, device=device)
                self.row_bounds[t] = torch.tensor(starts[1:], dtype=torch.int64, device=device)
        self.params = dense_params(torch, w, seed, device)
        self.dense_states = [torch.zeros_like(q, requires_grad=False) for q in self.params] if self.adagrad else None
        f = w.interaction_vectors
        ij = torch.triu_indices(f, f, 1, device=device)
        self.triu = ij[0] * f + ij[1]
        self.nbottom = len(w.bottom)
        self.ntop = len(w.top)
        self.iteration = 0
        # Test hook: REFERENCE_INJECT_FAULT=RANK:PHASE:ITERATION makes that phase raise (checks the failed-status path).
        f = os.environ.get("REFERENCE_INJECT_FAULT", "").split(":")
        self.fault = (int(f[0]), f[1], int(f[2])) if len(f) == 3 else None
        self.bodies = [self.input_distribution, self.embedding_lookup, self.all_to_all_forward, self.dense_forward,
                       self.dense_backward, self.all_to_all_backward, self.embedding_backward, self.all_reduce,
                       self.dense_optimizer]

    # -- collectives -------------------------------------------------------------------------------------------
    def a2a(self, send, send_counts, recv_counts, dtype):
        torch = self.torch
        recv = torch.empty(int(sum(recv_counts)), dtype=dtype, device=self.device)
        self.dist.all_to_all_single(recv, send.contiguous(), output_split_sizes=[int(x) for x in recv_counts],
                                    input_split_sizes=[int(x) for x in send_counts])
        return recv

    # -- one iteration ----------------------------------------------------------------------------------------
    def step(self, batch, timer, sync_each_phase=False, record=None):
        self.dense, self.labels, self.indices = batch
        self.record = record
        for p, body in enumerate(self.bodies):
            ctx = record(PHASES[p]) if record is not None else None
            if ctx is not None:
                ctx.__enter__()
            timer.begin(p)
            try:
                if self.fault == (self.rank, PHASES[p], self.iteration):
                    raise RuntimeError(f"injected fault in iteration {self.iteration}")
                body()
            except PhaseFailure:
                raise
            except Exception as e:
                raise PhaseFailure(self.rank, PHASES[p], f"{type(e).__name__}: {e}".replace("\n", " ")) from e
            timer.finish(p)
            if sync_each_phase and self.device.type == "cuda":
                self.torch.cuda.synchronize()
            if ctx is not None:
                ctx.__exit__(None, None, None)
        loss = self.flat[-1:].clone()
        self.iteration += 1
        self.values = self.offsets = self.outs = None
        self.pooled = self.recv = self.grad_pooled = self.flat = self.loss = None
        self.dp_out = self.dp_leaf = None
        return loss

    def input_distribution(self):
        torch, L, b = self.torch, self.L, self.b
        owned = len(self.owned)
        self.values = [None] * owned
        self.offsets = [None] * owned
        if not L.any_sharded:
            return
        partial = []
        size_parts = []
        for (t, table, scheme, shards, lookups) in L.tables:
            if scheme != "row_wise":
                continue
            idx = self.indices[t]
            n = idx.shape[0]
            k = len(shards)
            bucket = torch.bucketize(idx, self.row_bounds[t], right=True)
            pos = torch.arange(n, dtype=torch.int64, device=self.device)
            order = (bucket * n + pos).argsort()
            sorted_bucket = bucket.index_select(0, order)
            srt = idx.index_select(0, order) - self.row_starts[t].index_select(0, sorted_bucket)
            sample = torch.div(pos, lookups, rounding_mode="floor")
            counts = torch.zeros(k * b, dtype=torch.int64, device=self.device).index_add_(
                0, bucket * b + sample, torch.ones(n, dtype=torch.int64, device=self.device)).view(k, b)
            size_parts.append(counts.sum(1))
            partial.append((t, srt, counts))
        bucketed = {}
        if size_parts:
            sizes = torch.cat(size_parts, 0).cpu().tolist()  # one device-to-host copy for all bucket sizes
            at = 0
            for (t, srt, counts) in partial:
                k = len(L.tables[t][3])
                bucketed[t] = (srt, counts, sizes[at:at + k])
                at += k
        pieces, send_counts, header, header_counts = [], [0] * self.world, [], [0] * self.world
        for d in range(self.world):
            for o in L.owned[d]:
                lookups = L.tables[o.table][4]
                if o.scheme == "row_wise":
                    srt, counts, sizes = bucketed[o.table]
                    start = sum(sizes[:o.shard_index])
                    n = sizes[o.shard_index]
                    pieces.append(counts[o.shard_index].to(self.index_t))
                    if n > 0:
                        pieces.append(srt.narrow(0, start, n).to(self.index_t))
                    send_counts[d] += b + n
                    header.append(n)
                    header_counts[d] += 1
                else:
                    pieces.append(self.indices[o.table].to(self.index_t))
                    send_counts[d] += b * lookups
        my_rw = L.rw_owned[self.rank]
        from_peer = [0] * (self.world * my_rw)
        if L.any_row_wise:
            h_send = torch.tensor(header, dtype=torch.int64).to(self.device)
            h_recv = self.a2a(h_send, header_counts, [my_rw] * self.world, torch.int64)
            from_peer = h_recv.cpu().tolist()
        recv_counts = [0] * self.world
        for s in range(self.world):
            for o in self.owned:
                recv_counts[s] += (b + from_peer[s * my_rw + o.rw_slot]) if o.scheme == "row_wise" \
                    else b * L.tables[o.table][4]
        send = torch.cat(pieces, 0) if pieces else torch.empty(0, dtype=self.index_t, device=self.device)
        recv = self.a2a(send, send_counts, recv_counts, self.index_t)
        value_parts = [[] for _ in range(owned)]
        length_parts = [[] for _ in range(owned)]
        cursor = 0
        for s in range(self.world):
            for i, o in enumerate(self.owned):
                if o.scheme == "row_wise":
                    n = from_peer[s * my_rw + o.rw_slot]
                    length_parts[i].append(recv.narrow(0, cursor, b))
                    cursor += b
                    if n > 0:
                        value_parts[i].append(recv.narrow(0, cursor, n))
                    cursor += n
                else:
                    n = b * L.tables[o.table][4]
                    value_parts[i].append(recv.narrow(0, cursor, n))
                    cursor += n
        for i, o in enumerate(self.owned):
            self.values[i] = torch.cat(value_parts[i], 0).to(torch.int64) if value_parts[i] \
                else torch.empty(0, dtype=torch.int64, device=self.device)
            if o.scheme == "row_wise":
                lengths = torch.cat(length_parts[i], 0).to(torch.int64)
                self.offsets[i] = lengths.cumsum(0) - lengths
            else:
                self.offsets[i] = self.fixed_offsets[i]

    def embedding_lookup(self):
        torch = self.torch
        self.pooled = None
        self.outs = [bag(self.values[i], self.offsets[i]) for i, bag in enumerate(self.bags)]
        if self.outs:
            self.pooled = self.outs[0].detach() if len(self.outs) == 1 else torch.cat([o.detach() for o in self.outs], 1)
        self.dp_out = {t: bag(self.indices[t], self.dp_offsets[t]) for t, bag in self.dp_bags.items()}

    def all_to_all_forward(self):
        torch, L = self.torch, self.L
        if not L.any_sharded:
            return
        each = L.pooled_from(self.rank)
        send = (self.pooled if self.pooled is not None else torch.empty(0, dtype=torch.float32, device=self.device))
        send = send.reshape(-1).to(self.fwd_t)
        recv_counts = [L.pooled_from(s) for s in range(self.world)]
        self.recv = self.a2a(send, [each] * self.world, recv_counts, self.fwd_t).to(torch.float32)

    def dense_forward(self):
        torch, L, F = self.torch, self.L, self.F
        views = [None] * self.world
        if self.recv is not None:
            self.recv.requires_grad_(True)
            at = 0
            for s in range(self.world):
                n = L.pooled_from(s)
                if n > 0:
                    views[s] = self.recv.narrow(0, at, n).view(self.b, L.width[s])
                at += n
        embeddings = []
        self.dp_leaf = {}
        for (t, table, scheme, shards, _) in L.tables:
            if scheme == "data_parallel":
                leaf = self.dp_out[t].detach().requires_grad_(True)
                self.dp_leaf[t] = leaf
                embeddings.append(leaf)
                continue
            parts = [views[sh.rank].narrow(1, L.by_shard[(t, k)].pooled_column, sh.cols) for k, sh in enumerate(shards)]
            if scheme == "column_wise":
                e = torch.cat(parts, 1)
            elif scheme == "row_wise":
                e = parts[0]
                for q in parts[1:]:
                    e = e.add(q)
            else:
                e = parts[0]
            embeddings.append(e)
        x = self.dense
        ps = self.params
        for i in range(self.nbottom):
            x = F.linear(x, ps[2 * i], ps[2 * i + 1]).relu()
        bsz = x.shape[0]
        xs = torch.stack([x] + embeddings, 1)
        z = xs.bmm(xs.transpose(1, 2)).reshape(bsz, -1)
        y = torch.cat([x, z.index_select(1, self.triu)], 1)
        for i in range(self.ntop):
            k = self.nbottom + i
            y = F.linear(y, ps[2 * k], ps[2 * k + 1])
            if i < self.ntop - 1:
                y = y.relu()
        logits = y.reshape(bsz)
        self.loss = F.binary_cross_entropy_with_logits(logits, self.labels, reduction="sum") / self.B

    def dense_backward(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()
        self.loss.backward()

    def all_to_all_backward(self):
        torch, L = self.torch, self.L
        if not L.any_sharded:
            return
        counts = [L.pooled_from(s) for s in range(self.world)]
        grad = self.recv.grad if self.recv.grad is not None else torch.zeros_like(self.recv)
        each = L.pooled_from(self.rank)
        recv = self.a2a(grad.to(self.bwd_t), counts, [each] * self.world, self.bwd_t)
        self.grad_pooled = recv.to(torch.float32).view(self.B, L.width[self.rank]) if each > 0 else None

    def embedding_backward(self):
        torch = self.torch
        if self.outs:
            grads = [self.grad_pooled.narrow(1, o.pooled_column, o.shard.cols) for o in self.owned]
            torch.autograd.backward(self.outs, grads)
            for bag, state in zip(self.bags, self.states):
                # Profiled iterations name each step as torch.optim would: sim calibrate --trace adds it to the backward.
                with (self.record("Optimizer.step#SparseStep.step") if self.record is not None else contextlib.nullcontext()):
                    sparse_step(torch, bag, state, self.lr)
        for t, out in self.dp_out.items():
            leaf = self.dp_leaf[t]
            self.dp_bags[t].weight.grad = None
            out.backward(leaf.grad if leaf.grad is not None else torch.zeros_like(out))

    def all_reduce(self):
        torch = self.torch
        parts = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self.params]
        parts += [self.dp_bags[t].weight.grad.reshape(-1) for t in self.L.dp]
        parts.append(self.loss.detach().reshape(1))
        flat = torch.cat(parts, 0).to(self.red_t)
        self.dist.all_reduce(flat)
        self.flat = flat.to(torch.float32)

    def dense_optimizer(self):
        torch = self.torch
        at = 0
        with torch.no_grad(), (self.record("Optimizer.step#DenseStep.step") if self.record is not None else contextlib.nullcontext()):
            for i, p in enumerate(self.params):
                n = p.numel()
                g = self.flat.narrow(0, at, n).view(p.shape)
                at += n
                dense_step(torch, p, g, self.dense_states[i] if self.dense_states else None, self.lr)
            for t in self.L.dp:
                wt = self.dp_bags[t].weight
                n = wt.numel()
                g = self.flat.narrow(0, at, n).view(wt.shape)
                at += n
                st = self.dp_states[t]
                if st is None:
                    wt.add_(g, alpha=-self.lr)
                else:
                    st.add_(g.pow(2).mean(1))
                    wt.sub_(g / (st.sqrt() + EPS).unsqueeze(1) * self.lr)
                wt.grad = None


# ----------------------------------------------------------------------------------------------------------------
# run
# ----------------------------------------------------------------------------------------------------------------

def stats(values):
    s = sorted(values)
    n = len(s)
    med = s[n // 2] if n % 2 == 1 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    return {"median": finite(med), "min": finite(s[0]), "max": finite(s[-1])}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summarise(per_rank, losses, global_batch):
    """per_rank: [rank][iteration] = (seconds, busy, overhead, [phases]). Mirrors TrainingRun.Summarise."""
    world = len(per_rank)
    n = len(per_rank[0])
    if n == 0:
        return None
    samples = []
    for i in range(n):
        ranks = [per_rank[r][i] for r in range(world)]
        phases = [finite(max(x[3][p] for x in ranks)) for p in range(len(PHASES))]
        samples.append({"seconds": finite(max(x[0] for x in ranks)), "gpu_busy": finite(max(x[1] for x in ranks)),
                        "host_overhead": finite(max(x[2] for x in ranks)), "phases": phases, "loss": finite(losses[i])})
    phase_stats = []
    for p, name in enumerate(PHASES):
        s = stats([x["phases"][p] for x in samples])
        phase_stats.append({"name": name, **s})
    it = stats([x["seconds"] for x in samples])
    busy = stats([x["gpu_busy"] for x in samples])
    ov = stats([x["host_overhead"] for x in samples])
    rank_medians = [[stats([per_rank[r][i][3][p] for i in range(n)])["median"] for p in range(len(PHASES))]
                    for r in range(world)]
    return {
        "measured_iterations": n, "phases": phase_stats, "iteration": it, "gpu_busy": busy, "host_overhead": ov,
        "host_overhead_fraction": ov["median"] / it["median"] if it["median"] > 0 else 0.0,
        "samples_per_second": global_batch / it["median"] if it["median"] > 0 else 0.0,
        "rank_phase_medians": rank_medians, "per_iteration": samples,
    }


def busy_from_profile(torch, prof, n_iters, device):
    """Per phase: median over the profiled iterations of the seconds the device ran work inside the phase's window."""
    from torch.autograd import DeviceType
    events = list(prof.events())
    windows = {p: [] for p in PHASES}
    work = []
    for e in events:
        dt = getattr(e, "device_type", DeviceType.CPU)
        tr = e.time_range
        if e.name in windows:
            if dt == DeviceType.CPU:
                windows[e.name].append((tr.start, tr.end))
            continue
        if device.type == "cuda":
            if dt == DeviceType.CUDA:
                work.append((tr.start, tr.end))
        elif dt == DeviceType.CPU and e.name.startswith("aten::"):
            work.append((tr.start, tr.end))  # CPU: time in aten ops (tests the parsing only)
    for p in PHASES:
        merged = []  # a range may show up more than once (e.g. nested annotations): merge overlapping ones
        for w0, w1 in sorted(windows[p]):
            if merged and w0 <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], w1))
            else:
                merged.append((w0, w1))
        windows[p] = merged
        if len(windows[p]) != n_iters:
            raise RuntimeError(f"profiler shows {len(windows[p])} windows of {p}, expected {n_iters}")
        windows[p].sort()
    flat = sorted((w[0], w[1], p, i) for p, ws in windows.items() for i, w in enumerate(ws))
    starts = [f[0] for f in flat]
    import bisect
    assigned = {}
    for (s, e) in work:
        mid = 0.5 * (s + e)
        j = bisect.bisect_right(starts, mid) - 1
        if j < 0 or mid > flat[j][1]:
            continue
        assigned.setdefault((flat[j][2], flat[j][3]), []).append((s, e))
    result = []
    for p in PHASES:
        per_it = []
        for i in range(n_iters):
            iv = sorted(assigned.get((p, i), []))
            total, cur_s, cur_e = 0.0, None, None
            for s, e in iv:
                if cur_e is None or s > cur_e:
                    if cur_e is not None:
                        total += cur_e - cur_s
                    cur_s, cur_e = s, e
                else:
                    cur_e = max(cur_e, e)
            if cur_e is not None:
                total += cur_e - cur_s
            per_it.append(total / 1e6)
        result.append(stats(per_it)["median"])
    return result


def cmd_run(args, argv):
    date = utc_now()
    env_rank = os.environ.get("RANK")
    rank = int(env_rank) if env_rank is not None else 0
    world_env = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    def say(msg):
        if rank == 0:
            print(msg, file=sys.stderr, flush=True)

    try:
        for flag, v, lo in (("--iterations", args.iterations, 1), ("--warmup", args.warmup, 0), ("--profile-busy", args.profile_busy, 0)):
            if v is not None and v < lo:
                raise InputError(flag, "", f"must be at least {lo}, got {v}")
        if not (args.lr > 0) or not math.isfinite(args.lr):
            raise InputError("--lr", "", f"must be a positive number, got {args.lr}")
        topo_file, topo_name, gpus = load_topology(args.topology)
        w = load_workload(args.workload)
        plan_file, plan_name, plan_tables = load_plan(args.plan, w, gpus)
        if world_env != gpus:
            raise InputError(topo_file, "", f"WORLD_SIZE is {world_env} but the topology has {gpus} GPUs; launch one process per GPU "
                             f"(python3 -m torch.distributed.run --nproc_per_node={gpus} {SCRIPT} run ...)")
        B = w.batch if args.batch_size is None else args.batch_size
        if B < 1:
            raise InputError("--batch-size", "", f"must be at least 1, got {B}")
        if B % gpus != 0:
            raise InputError(w.file if args.batch_size is None else "--batch-size", "batch_size" if args.batch_size is None else "",
                             f"global batch {B} does not divide evenly over {gpus} GPUs")
    except InputError as e:
        if rank == 0:
            fail_input(e)
        sys.exit(2)

    import torch
    import torch.distributed as dist
    if args.device == "cuda":
        if not torch.cuda.is_available():
            if rank == 0:
                fail_input(InputError("--device", "", "cuda is not available in this PyTorch (use --device cpu)"))
            sys.exit(2)
        if local_rank >= torch.cuda.device_count():
            if rank == 0:
                fail_input(InputError("--device", "", f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPUs are visible"))
            sys.exit(2)
    for k, v in (("NCCL_NVLS_ENABLE", "0"), ("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1"), ("NVSHMEM_DISABLE_NVLS", "1")):
        os.environ.setdefault(k, v)
    if args.device == "cuda":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
    if env_rank is not None:
        dist.init_process_group(backend, init_method="env://", rank=rank, world_size=world_env)
    else:
        dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    world = dist.get_world_size()

    optimizer = args.optimizer or w.optimizer
    profile_n = args.profile_busy if args.profile_busy is not None else (3 if device.type == "cuda" else 0)
    if device.type == "cuda":
        set_tf32(torch, w.precision["compute"] == "tf32")
    layout = Layout(w, plan_tables, world, B)
    inputs = [input_record("topology", args.topology), input_record("workload", args.workload), input_record("plan", args.plan)]
    settings = {
        "topology": topo_name, "workload": w.name, "plan": plan_name, "world_size": world, "global_batch_size": B,
        "local_batch_size": B // world, "warmup": args.warmup, "iterations": args.iterations, "seed": args.seed,
        "learning_rate": args.lr, "optimizer": optimizer, "compute_precision": w.precision["compute"],
    }
    prov = provenance(torch, device.type, argv, date)

    def barrier():
        t = torch.ones(1, device=device)
        dist.all_reduce(t)
        if device.type == "cuda":
            torch.cuda.synchronize()

    total = args.warmup + args.iterations
    timings, losses = [], []
    failure = None
    trainer = None
    try:
        try:
            trainer = Trainer(torch, dist, w, layout, rank, device, args.seed, args.lr, optimizer)
        except Exception as e:
            raise PhaseFailure(rank, "setup", f"{type(e).__name__}: {e}".replace("\n", " ")) from e
        timer = PhaseTimer(torch, device)
        b = layout.b
        for it in range(total):
            gb = global_batch(torch, w, args.seed, it, B)
            batch = local_batch(torch, w, gb, rank, b, device)
            del gb
            barrier()
            t0 = time.perf_counter()
            loss = trainer.step(batch, timer)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
            phases = timer.phases()
            busy = sum(phases)
            value = float(loss.item())
            if it >= args.warmup:
                timings.append((seconds, busy, seconds - busy, phases))
                losses.append(value)
            if it == 0 or it == args.warmup or it == total - 1:
                say(f"reference: iteration {it + 1}/{total}: {seconds * 1e3:.2f} ms, loss {value:.6g}")
    except PhaseFailure as e:
        failure = e

    if failure is not None:
        # The other ranks may be stuck in a collective: write what this rank knows and leave (torchrun ends the rest).
        msg = f"error: rank {failure.rank}: {failure.phase}: {failure.error}"
        print(msg, file=sys.stderr, flush=True)
        m = {"schema_version": 1, "kind": "run", "provenance": prov, "inputs": inputs,
             "status": {"state": "failed", "failed_rank": failure.rank, "failed_call": failure.phase, "error": failure.error},
             "run": settings}
        if world == 1 and timings:
            m["end_to_end"] = summarise([timings], losses, B)
        if rank == 0 and world > 1 and args.out:
            # A peer's failure often surfaces here as a broken connection: let the rank that failed first write.
            time.sleep(2.0)
            try:
                with open(args.out, "r", encoding="utf-8") as fh:
                    prev = json.load(fh)
                if prev.get("provenance", {}).get("date_utc") == date and prev.get("status", {}).get("state") == "failed":
                    os._exit(1)
            except (OSError, ValueError):
                pass
        if rank == 0 or args.out:
            try:
                emit(m, args.out, args.compact)
            except Exception as e2:
                print(f"error: cannot write the measurement: {e2}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)

    # Profiled iterations: device busy time per phase (torch.profiler), after the measured ones.
    busy = None
    if profile_n > 0:
        ok = 1.0
        vals = [0.0] * len(PHASES)
        prof = None
        record = None
        try:
            from torch.profiler import profile, ProfilerActivity, record_function
            acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
            # Shapes only when a trace is written (sim calibrate --trace fits operators by them); they cost host time.
            prof = profile(activities=acts, record_shapes=bool(args.trace))
            prof.__enter__()
            record = record_function
        except Exception as e:
            ok = 0.0
            print(f"reference: rank {rank}: profiler did not start ({type(e).__name__}: {e}); phase_device_busy omitted", file=sys.stderr)
            prof = None
        try:
            for it in range(total, total + profile_n):
                gb = global_batch(torch, w, args.seed, it, B)
                batch = local_batch(torch, w, gb, rank, layout.b, device)
                del gb
                barrier()
                trainer.step(batch, timer, sync_each_phase=True, record=record if prof is not None else None)
                if device.type == "cuda":
                    torch.cuda.synchronize()
        except PhaseFailure as e:
            print(f"error: rank {e.rank}: {e.phase} (profiled iteration): {e.error}", file=sys.stderr, flush=True)
            os._exit(1)
        if prof is not None:
            try:
                prof.__exit__(None, None, None)
                vals = busy_from_profile(torch, prof, profile_n, device)
                if args.trace:
                    # The profiled iterations as a Kineto (Chrome trace) JSON per rank: what `sim calibrate --trace` reads.
                    path = args.trace if world == 1 else f"{os.path.splitext(args.trace)[0]}.rank{rank}.json"
                    prof.export_chrome_trace(path)
                    say(f"reference: rank {rank}: trace written to {display_name(path)}")
            except Exception as e:
                ok = 0.0
                print(f"reference: rank {rank}: profiler failed ({type(e).__name__}: {e}); phase_device_busy omitted", file=sys.stderr)
        t = torch.tensor([ok], dtype=torch.float64, device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        v = torch.tensor(vals, dtype=torch.float64, device=device)
        dist.all_reduce(v, op=dist.ReduceOp.MAX)
        if t.item() > 0:
            busy = [finite(x) for x in v.cpu().tolist()]
        else:
            say("reference: phase_device_busy omitted (the profiler failed on a rank)")

    # Every rank's timings to every rank (outside timed code): [world, iterations, 3 + phases].
    n = len(timings)
    allt = torch.zeros(world, n, 3 + len(PHASES), dtype=torch.float64, device=device)
    allt[rank] = torch.tensor([[s, bz, ov] + ph for (s, bz, ov, ph) in timings], dtype=torch.float64, device=device)
    dist.all_reduce(allt)
    allt = allt.cpu().tolist()
    if rank == 0:
        per_rank = [[(x[0], x[1], x[2], x[3:]) for x in allt[r]] for r in range(world)]
        e2e = summarise(per_rank, losses, B)
        if busy is not None:
            e2e["phase_device_busy"] = busy
        m = {"schema_version": 1, "kind": "run", "provenance": prov, "inputs": inputs, "status": {"state": "ok"},
             "run": settings, "end_to_end": e2e}
        emit(m, args.out, args.compact)
        out = sys.stdout if args.out else sys.stderr
        print(f"{w.name} on {topo_name} ({world} ranks, {prov['device']}: {prov['gpu_model']}), plan {plan_name}: ok", file=out)
        print(f"{'phase':<22} {'median ms':>10} {'min ms':>10} {'max ms':>10} {'busy ms':>10}", file=out)
        for p, ps in enumerate(e2e["phases"]):
            bz = f"{busy[p] * 1e3:10.3f}" if busy is not None else f"{'':>10}"
            print(f"{ps['name']:<22} {ps['median'] * 1e3:10.3f} {ps['min'] * 1e3:10.3f} {ps['max'] * 1e3:10.3f} {bz}", file=out)
        it = e2e["iteration"]
        print(f"{'iteration':<22} {it['median'] * 1e3:10.3f} {it['min'] * 1e3:10.3f} {it['max'] * 1e3:10.3f}", file=out)
        print(f"{e2e['measured_iterations']} measured iterations; {e2e['samples_per_second']:,.0f} samples/s; host overhead "
              f"{e2e['host_overhead_fraction'] * 100:.1f}% of the iteration; loss {losses[0]:.6g} -> {losses[-1]:.6g}", file=out)
    try:
        dist.destroy_process_group()
    except Exception:
        pass
    return 0


# ----------------------------------------------------------------------------------------------------------------
# micro: the operator grid
# ----------------------------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, torch, device, warmup, reps):
        self.torch, self.device, self.warmup, self.reps = torch, device, warmup, reps
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def measure(self, sets, op, setup=None):
        """Medians over repetitions (rotating input sets) of device, host (issue) and wall time of op(set).
        setup(set) runs untimed before every call."""
        torch = self.torch
        k = len(sets)

        def prep(i):
            s = sets[i % k]
            if setup is not None:
                setup(s)
            return s

        for i in range(self.warmup):
            op(prep(i))
        self.sync()
        dev, host, wall = [], [], []
        if self.cuda:
            e0 = torch.cuda.Event(enable_timing=True)
            e1 = torch.cuda.Event(enable_timing=True)
        for i in range(self.reps):
            s = prep(i)
            self.sync()
            if self.cuda:
                e0.record()
                op(s)
                e1.record()
                e1.synchronize()
                dev.append(e0.elapsed_time(e1) / 1e3)
            else:
                t0 = time.perf_counter()
                op(s)
                dev.append(time.perf_counter() - t0)
        for i in range(self.reps):
            s = prep(i + 1)
            self.sync()
            t0 = time.perf_counter()
            op(s)
            host.append(time.perf_counter() - t0)
            self.sync()
        for i in range(self.reps):
            s = prep(i)
            self.sync()
            t0 = time.perf_counter()
            op(s)
            self.sync()
            wall.append(time.perf_counter() - t0)
        d = stats(dev)["median"]
        return max(d, 1e-9), stats(host)["median"], stats(wall)["median"]


def workload_gemm_shapes(paths, quick):
    shapes = []
    for path in paths:
        try:
            w = load_workload(path)
        except InputError as e:
            print(f"micro: skipping {display_name(path)}: {e}", file=sys.stderr)
            continue
        gpus = (1,) if quick else (1, 2, 4)
        for g in gpus:
            b = w.batch // g
            if quick:
                b = min(b, 256)
            for (i, o) in w.layers:
                shapes += [(b, i, o), (b, o, i), (i, b, o)]
    return shapes


def cmd_micro(args, argv):
    date = utc_now()
    import torch
    if args.device == "cuda" and not torch.cuda.is_available():
        fail_input(InputError("--device", "", "cuda is not available in this PyTorch (use --device cpu)"))
    for flag, v, lo in (("--warmup", args.warmup, 0), ("--repetitions", args.repetitions, 1)):
        if v < lo:
            fail_input(InputError(flag, "", f"must be at least {lo}, got {v}"))
    device = torch.device("cuda", 0) if args.device == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(0)
    quick = args.quick or device.type == "cpu"
    wl_paths = sorted(glob.glob(os.path.join(REPO, "workloads", "validation", "*.yaml")))
    inputs = [input_record("workload", p) for p in wl_paths]
    prov = provenance(torch, device.type, argv, date)
    bench = Bench(torch, device, args.warmup, args.repetitions)
    ops = []
    budget = args.budget_seconds
    t_start = time.perf_counter()
    skipped = []
    gen = torch.Generator(device=device)
    gen.manual_seed(args.seed)
    only = set(args.only.split(",")) if args.only else None

    def log(msg):
        print(f"micro: {msg}", file=sys.stderr, flush=True)

    def over_budget():
        return time.perf_counter() - t_start > budget

    def add(op, dtype, optimizer, shape, res):
        # optimizer is written even when null: Measurement.cs's reader requires the key (its parameter has no default).
        r = {"op": op, "stack": STACK, "dtype": dtype, "optimizer": optimizer}
        r["shape"] = {k: float(v) if isinstance(v, float) else int(v) for k, v in shape.items()}
        r["device_seconds"], r["host_seconds"], r["wall_seconds"] = finite(res[0]), finite(res[1]), finite(res[2])
        ops.append(r)

    def want(op):
        return only is None or op in only

    if quick:
        rows_grid, dims, pools, batches = [1000, 20000], [16, 64], [1, 8], [256, 2048]
    else:
        rows_grid, dims, pools, batches = [100000, 1000000, 4000000], [32, 64, 128, 256], [1, 8, 32], [8192, 65536]
    nsets = 2

    def index_sets(rows, batch, pool):
        return [torch.randint(0, rows, (batch * pool,), dtype=torch.int64, device=device, generator=gen) for _ in range(nsets)]

    # -- embedding_forward, embedding_backward, sparse_optimizer --------------------------------------------------
    emb_ops = [o for o in ("embedding_forward", "embedding_backward", "sparse_optimizer") if want(o)]
    if emb_ops:
        for rows in rows_grid:
            for dim in dims:
                if over_budget():
                    skipped.append(f"embedding ops rows={rows} dim={dim}")
                    continue
                try:
                    weight = (torch.rand(rows, dim, device=device, generator=gen) - 0.5) * 0.01
                    bag = torch.nn.EmbeddingBag(rows, dim, mode="sum", sparse=True, _weight=weight)
                    state = torch.zeros(rows, dtype=torch.float32, device=device)
                except RuntimeError as e:
                    skipped.append(f"embedding ops rows={rows} dim={dim} ({e})")
                    continue
                for pool in pools:
                    for batch in batches:
                        idx = index_sets(rows, batch, pool)
                        offs = torch.arange(0, batch * pool, pool, dtype=torch.int64, device=device)
                        uniq = sum(int(torch.unique(i).numel()) for i in idx) / len(idx)
                        shape = {"rows": rows, "dim": dim, "batch": batch, "pooling": pool, "unique_rows": uniq}
                        grads = [torch.randn(batch, dim, device=device, generator=gen) for _ in range(nsets)]
                        sets = list(zip(idx, grads))
                        if "embedding_forward" in emb_ops:
                            def fwd(s):
                                with torch.no_grad():
                                    bag(s[0], offs)
                            add("embedding_forward", "fp32", None, shape, bench.measure(sets, fwd))
                        biggest = rows == rows_grid[-1] and len(rows_grid) > 2
                        for opt in ("sgd", "rowwise_adagrad"):
                            st = state if opt == "rowwise_adagrad" else None
                            lr = 1e-3
                            if "embedding_backward" in emb_ops and not biggest:
                                holder = {}

                                def setup_bwd(s):
                                    bag.weight.grad = None
                                    holder["out"] = bag(s[0], offs)

                                def bwd(s):
                                    torch.autograd.backward([holder["out"]], [s[1]])
                                    sparse_step(torch, bag, st, lr)
                                add("embedding_backward", "fp32", opt, shape, bench.measure(sets, bwd, setup_bwd))
                                holder.clear()
                            if "sparse_optimizer" in emb_ops and not biggest:
                                ready = []
                                for s in sets:
                                    bag.weight.grad = None
                                    out = bag(s[0], offs)
                                    torch.autograd.backward([out], [s[1]])
                                    ready.append(bag.weight.grad)
                                    bag.weight.grad = None
                                gsets = list(range(nsets))

                                def setup_opt(i):
                                    bag.weight.grad = ready[i]

                                def opt_step(i):
                                    sparse_step(torch, bag, st, lr)
                                add("sparse_optimizer", "fp32", opt, shape, bench.measure(gsets, opt_step, setup_opt))
                                del ready
                        del idx, grads, sets
                log(f"embedding rows={rows} dim={dim} done ({time.perf_counter() - t_start:.0f} s)")
                del bag, weight, state
                if device.type == "cuda":
                    torch.cuda.empty_cache()

    # -- dense_optimizer -----------------------------------------------------------------------------------------
    if want("dense_optimizer"):
        for n in ([1000, 100000] if quick else [100000, 1000000, 10000000, 50000000]):
            p = torch.randn(n, device=device, generator=gen)
            gs = [torch.randn(n, device=device, generator=gen) * 1e-3 for _ in range(nsets)]
            for opt in ("sgd", "adagrad"):
                st = torch.rand(n, device=device, generator=gen) if opt == "adagrad" else None
                add("dense_optimizer", "fp32", opt, {"params": n},
                    bench.measure(gs, lambda g, st=st: dense_step(torch, p, g, st, 1e-3)))
            del p, gs
        log(f"dense_optimizer done ({time.perf_counter() - t_start:.0f} s)")

    # -- dense_optimizer over several parameter tensors, as dense_optimizer runs it: each tensor a narrow/view of the
    #    reduced flat buffer, then its own step (the per-tensor host cost is what an eager step pays) ----------------
    if want("dense_optimizer"):
        for tensors in ([1, 4] if quick else [1, 4, 12, 24]):
            for total in ([10000] if quick else [100000, 1000000, 10000000]):
                per = max(1, total // tensors)
                ps = [torch.randn(per, device=device, generator=gen) for _ in range(tensors)]
                flats = [torch.randn(per * tensors, device=device, generator=gen) * 1e-3 for _ in range(nsets)]
                for opt in ("sgd", "adagrad"):
                    sts = [torch.rand(per, device=device, generator=gen) for _ in range(tensors)] if opt == "adagrad" else None

                    def step(flat, sts=sts):
                        at = 0
                        for i, q in enumerate(ps):
                            g = flat.narrow(0, at, q.numel()).view(q.shape)
                            at += q.numel()
                            dense_step(torch, q, g, sts[i] if sts else None, 1e-3)
                    add("dense_optimizer", "fp32", opt, {"params": per * tensors, "tensors": tensors}, bench.measure(flats, step))
                del ps, flats
        log(f"dense_optimizer over tensors done ({time.perf_counter() - t_start:.0f} s)")

    # -- collective_call: one torch.distributed call on a 1-rank group, as the step issues it (the host's cost of a
    #    collective call: argument checks, split lists, work objects, stream events), all-reduce and all-to-all ------
    if want("collective_call"):
        import torch.distributed as dist
        made = False
        try:
            if not dist.is_initialized():
                backend = "nccl" if device.type == "cuda" else "gloo"
                dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
                made = True
            for elements in ([1024, 262144] if quick else [1024, 262144, 16777216]):
                sets = [torch.randn(elements, device=device, generator=gen) for _ in range(nsets)]
                add("collective_call", "fp32", None, {"all_to_all": 0, "bytes": elements * 4}, bench.measure(sets, lambda x: dist.all_reduce(x)))

                def a2a(x, n=elements):
                    out = torch.empty(n, device=device)
                    dist.all_to_all_single(out, x, output_split_sizes=[n], input_split_sizes=[n])
                    return out
                add("collective_call", "fp32", None, {"all_to_all": 1, "bytes": elements * 4}, bench.measure(sets, a2a))
                del sets
            log(f"collective_call done ({time.perf_counter() - t_start:.0f} s)")
        except Exception as e:  # a machine without the backend: leave the op out and say so
            log(f"collective_call skipped: {type(e).__name__}: {e}")
        finally:
            if made:
                dist.destroy_process_group()

    # -- gradient_pack: the gradients flattened into one buffer before the all-reduce, as all_reduce runs it -------
    if want("gradient_pack"):
        for tensors in ([1, 4] if quick else [1, 4, 12, 24, 48]):
            for total in ([10000] if quick else [100000, 1000000, 10000000]):
                per = max(1, total // tensors)
                sets = [[torch.randn(per, device=device, generator=gen) for _ in range(tensors)] for _ in range(nsets)]
                loss = torch.randn((), device=device, generator=gen)

                def pack(gs):
                    parts = [g.reshape(-1) for g in gs]
                    parts.append(loss.detach().reshape(1))
                    return torch.cat(parts, 0).to(torch.float32)
                add("gradient_pack", "fp32", None, {"params": per * tensors, "tensors": tensors}, bench.measure(sets, pack))
                del sets
        log(f"gradient_pack done ({time.perf_counter() - t_start:.0f} s)")

    # -- input_pack: the table-wise part of input_distribution (each table's indices into the send buffer, and each
    #    owned table's indices and offsets out of the receive buffer), without the all-to-all itself ---------------
    if want("input_pack"):
        for tables in ([1, 8] if quick else [1, 4, 8, 16, 32]):
            for lookups in ([2048] if quick else [8192, 65536, 524288]):
                sets = [[torch.randint(0, 100000, (lookups,), dtype=torch.int64, device=device, generator=gen) for _ in range(tables)] for _ in range(nsets)]

                def inpack(idx):
                    pieces = [i.to(torch.int64) for i in idx]
                    send = torch.cat(pieces, 0)
                    recv = send  # the all-to-all is timed as a collective
                    out, cursor = [], 0
                    for i in idx:
                        n = i.shape[0]
                        out.append(torch.cat([recv.narrow(0, cursor, n)], 0).to(torch.int64))
                        cursor += n
                    return out
                add("input_pack", "fp32", None, {"tables": tables, "lookups": lookups * tables}, bench.measure(sets, inpack))
                del sets
        log(f"input_pack done ({time.perf_counter() - t_start:.0f} s)")

    # -- slice_assembly --------------------------------------------------------------------------------------------
    if want("slice_assembly"):
        for slices in [1, 4, 16, 64]:
            for batch in ([256, 2048] if quick else [8192, 65536]):
                for dim in ([16, 64] if quick else [32, 64, 128]):
                    xs = [torch.randn(batch, slices * dim, device=device, generator=gen).requires_grad_(True) for _ in range(nsets)]
                    r = torch.randn(batch, slices, dim, device=device, generator=gen)

                    def setup_sa(x):
                        x.grad = None

                    def sa(x):
                        y = torch.stack([x.narrow(1, i * dim, dim) for i in range(slices)], 1)
                        (y * r).sum().backward()
                    add("slice_assembly", "fp32", None, {"slices": slices, "batch": batch, "dim": dim}, bench.measure(xs, sa, setup_sa))
                    del xs, r
        log(f"slice_assembly done ({time.perf_counter() - t_start:.0f} s)")

    # -- elementwise -----------------------------------------------------------------------------------------------
    if want("elementwise"):
        for n in ([1, 10000, 1000000] if quick else [1, 10000, 1000000, 100000000]):
            xs = [torch.rand(n, device=device, generator=gen) + 0.5 for _ in range(nsets)]
            add("elementwise", "fp32", None, {"elements": n}, bench.measure(xs, lambda x: x.mul_(1.0001)))
            del xs
        log(f"elementwise done ({time.perf_counter() - t_start:.0f} s)")

    # -- linear_forward / linear_backward: one MLP layer, F.linear (bias in addmm) then ReLU, as dense_forward runs it --
    if want("linear_forward") or want("linear_backward"):
        Fn = torch.nn.functional
        widths = [16, 64, 256, 512, 1024] if not quick else [16, 64]
        pairs = {(i, o) for i in widths for o in widths}
        for path in wl_paths:
            try:
                pairs |= set(load_workload(path).layers)
            except InputError:
                pass
        for batch in ([256, 2048] if quick else [4096, 16384, 65536, 262144]):
            for (fin, fout) in sorted(pairs):
                if over_budget():
                    skipped.append(f"linear b={batch} {fin}->{fout}")
                    continue
                wt = (torch.randn(fout, fin, device=device, generator=gen) * 0.05).requires_grad_(True)
                bs = torch.zeros(fout, device=device).requires_grad_(True)
                xs = [torch.randn(batch, fin, device=device, generator=gen).requires_grad_(True) for _ in range(nsets)]
                gys = [torch.randn(batch, fout, device=device, generator=gen) for _ in range(nsets)]
                sets = list(zip(xs, gys))
                shape = {"batch": batch, "in": fin, "out": fout}
                add("linear_forward", "fp32", None, shape, bench.measure(sets, lambda s: Fn.linear(s[0], wt, bs).relu()))
                held = {}

                def setup_lb(s):
                    s[0].grad = None
                    wt.grad = None
                    bs.grad = None
                    held["y"] = Fn.linear(s[0], wt, bs).relu()

                def lb(s):
                    held["y"].backward(s[1])
                add("linear_backward", "fp32", None, shape, bench.measure(sets, lb, setup_lb))
                held.clear()
                del wt, bs, xs, gys, sets
        log(f"linear layers done ({time.perf_counter() - t_start:.0f} s)")

    # -- interaction_forward / interaction_backward: DLRM's dot interaction as dense_forward runs it --------------
    if want("interaction_forward") or want("interaction_backward"):
        for batch in ([256, 2048] if quick else [4096, 16384, 65536, 262144]):
            for feats in ([3, 9] if quick else [2, 5, 9, 17, 27]):
                for dim in ([16, 64] if quick else [16, 32, 64, 128, 256]):
                    if over_budget() or batch * feats * dim > 2 ** 31:
                        skipped.append(f"interaction b={batch} F={feats} d={dim}")
                        continue
                    triu = torch.triu_indices(feats, feats, 1, device=device)
                    triu = (triu[0] * feats + triu[1]).contiguous()
                    sets = []
                    for _ in range(nsets):
                        parts = [torch.randn(batch, dim, device=device, generator=gen).requires_grad_(True) for _ in range(feats)]
                        g = torch.randn(batch, dim + triu.numel(), device=device, generator=gen)
                        sets.append((parts, g))

                    def inter(s):
                        x = s[0][0]
                        xs_ = torch.stack(s[0], 1)
                        z = xs_.bmm(xs_.transpose(1, 2)).reshape(batch, -1)
                        return torch.cat([x, z.index_select(1, triu)], 1)
                    shape = {"batch": batch, "features": feats, "dim": dim}
                    add("interaction_forward", "fp32", None, shape, bench.measure(sets, inter))
                    held = {}

                    def setup_ib(s):
                        for q in s[0]:
                            q.grad = None
                        held["y"] = inter(s)

                    def ib(s):
                        held["y"].backward(s[1])
                    add("interaction_backward", "fp32", None, shape, bench.measure(sets, ib, setup_ib))
                    held.clear()
                    del sets
        log(f"interaction done ({time.perf_counter() - t_start:.0f} s)")

    # -- input_bucketize: one row-wise table's bucketing by shard and the host read of the bucket sizes, as
    #    input_distribution runs it (the part that waits on the host) -----------------------------------------------
    if want("input_bucketize"):
        for batch in ([256, 2048] if quick else [8192, 65536]):
            for pool in ([1, 8] if quick else [1, 8, 32]):
                for k in [1, 2, 4, 8]:
                    rows = 1000000
                    n = batch * pool
                    bounds = torch.tensor([rows * j // k for j in range(1, k)], dtype=torch.int64, device=device)
                    starts = torch.tensor([rows * j // k for j in range(k)], dtype=torch.int64, device=device)
                    sets = index_sets(rows, batch, pool)

                    def bucketize(idx):
                        bucket = torch.bucketize(idx, bounds, right=True)
                        pos = torch.arange(n, dtype=torch.int64, device=device)
                        order = (bucket * n + pos).argsort()
                        sorted_bucket = bucket.index_select(0, order)
                        srt = idx.index_select(0, order) - starts.index_select(0, sorted_bucket)
                        sample = torch.div(pos, pool, rounding_mode="floor")
                        counts = torch.zeros(k * batch, dtype=torch.int64, device=device).index_add_(
                            0, bucket * batch + sample, torch.ones(n, dtype=torch.int64, device=device)).view(k, batch)
                        sizes = counts.sum(1).cpu().tolist()
                        return srt, sizes
                    add("input_bucketize", "fp32", None, {"batch": batch, "pooling": pool, "shards": k, "lookups": n},
                        bench.measure(sets, bucketize))
                    del sets
        log(f"input_bucketize done ({time.perf_counter() - t_start:.0f} s)")

    # -- gemm -------------------------------------------------------------------------------------------------------
    if want("gemm"):
        big = [256, 1024] if quick else [1024, 4096, 16384, 65536, 262144]
        small = [1, 16, 64] if quick else [1, 16, 64, 256, 512, 1024]
        shapes = []
        for B_ in big:
            for s1 in small:
                for s2 in small:
                    shapes += [(B_, s1, s2), (s1, B_, s2), (s1, s2, B_)]
        shapes += workload_gemm_shapes(wl_paths, quick)
        seen, uniq = set(), []
        for s in shapes:
            if s not in seen:
                seen.add(s)
                uniq.append(s)
        uniq.sort(key=lambda s: s[0] * s[1] * s[2])  # smallest first: a budget overrun skips the largest
        dtypes = ["fp32", "tf32", "bf16"] if device.type == "cuda" else ["fp32", "bf16"]
        log(f"gemm: {len(uniq)} shapes x {len(dtypes)} dtypes")
        for dt in dtypes:
            if device.type == "cuda":
                set_tf32(torch, dt == "tf32")
            tdt = torch.bfloat16 if dt == "bf16" else torch.float32
            for (m, k, n) in uniq:
                if over_budget():
                    skipped.append(f"gemm {dt} m={m} k={k} n={n}")
                    continue
                sets = [(torch.randn(m, k, device=device, generator=gen).to(tdt), torch.randn(k, n, device=device, generator=gen).to(tdt))
                        for _ in range(nsets)]
                add("gemm", dt, None, {"m": m, "k": k, "n": n}, bench.measure(sets, lambda s: torch.matmul(s[0], s[1])))
                del sets
            log(f"gemm {dt} done ({time.perf_counter() - t_start:.0f} s)")
        if device.type == "cuda":
            set_tf32(torch, False)

    if skipped:
        log(f"over the {budget:.0f} s budget, skipped {len(skipped)} configurations:")
        for s in skipped:
            print(f"  skipped: {s}", file=sys.stderr)
    m = {"schema_version": 1, "kind": "micro", "provenance": prov, "inputs": inputs, "status": {"state": "ok"},
         "micro": {"warmup": args.warmup, "repetitions": args.repetitions, "operators": ops}}
    emit(m, args.out, args.compact)
    log(f"{len(ops)} operator measurements in {time.perf_counter() - t_start:.0f} s")
    return 0


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {self.prog.split()[-1]}: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    ap = Parser(prog="dlrm_reference.py", description="Plain-PyTorch reference runner (pytorch-eager) for Sim's validation scenarios.")
    sub = ap.add_subparsers(dest="command", parser_class=Parser)
    r = sub.add_parser("run", help="train a scenario (one process per GPU) and write a run Measurement",
                       description="Train TOPOLOGY/WORKLOAD/PLAN in the C# harness's nine phases with plain PyTorch eager and "
                                   "torch.distributed; launch with python3 -m torch.distributed.run --nproc_per_node=N for N GPUs.")
    r.add_argument("topology", help="cluster file, e.g. topologies/h200x1.yaml (its GPU count must equal WORLD_SIZE)")
    r.add_argument("workload", help="workload file, e.g. workloads/validation/val-base.yaml")
    r.add_argument("plan", help="plan file, e.g. validation/plans/val-base.1gpu.tw.yaml")
    r.add_argument("--iterations", type=int, default=20, help="measured iterations (default 20)")
    r.add_argument("--warmup", type=int, default=5, help="iterations before measuring (default 5)")
    r.add_argument("--seed", type=int, default=1, help="seed of tables, dense weights and data (default 1)")
    r.add_argument("--lr", type=float, default=0.001, help="learning rate (default 0.001)")
    r.add_argument("--optimizer", choices=["sgd", "rowwise_adagrad"], default=None, help="override the workload's optimizer")
    r.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="cuda (NCCL) or cpu (gloo); default cuda")
    r.add_argument("--trace", default=None,
                   help="also write the profiled iterations as a PyTorch profiler (Kineto) Chrome-trace JSON (per rank: FILE.rankN.json)")
    r.add_argument("--profile-busy", type=int, default=None, dest="profile_busy",
                   help="extra iterations under torch.profiler for end_to_end.phase_device_busy (default 3 on cuda, 0 on cpu)")
    r.add_argument("--batch-size", type=int, default=None, dest="batch_size",
                   help="override the workload's global batch (recorded in run.global_batch_size); for CPU tests")
    r.add_argument("--out", default=None, help="write the Measurement here (atomically); without it, print it")
    r.add_argument("--compact", action="store_true", help="write the JSON on one line")
    mi = sub.add_parser("micro", help="the operator grid of the pytorch-eager stack on one device",
                        description="Time each operator of the grid alone (device, host-issue and wall time; medians).")
    mi.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="cuda or cpu (cpu runs the quick grid)")
    mi.add_argument("--quick", action="store_true", help="a small grid that ends in seconds")
    mi.add_argument("--warmup", type=int, default=3, help="untimed calls before each measurement (default 3)")
    mi.add_argument("--repetitions", type=int, default=10, help="timed calls per measurement (default 10)")
    mi.add_argument("--seed", type=int, default=1, help="seed of the random inputs (default 1)")
    mi.add_argument("--budget-seconds", type=float, default=240.0, dest="budget_seconds",
                    help="stop starting new configurations after this long (default 240); skips are listed on stderr")
    mi.add_argument("--only", default=None, help="comma-separated ops to run (default all)")
    mi.add_argument("--out", default=None, help="write the Measurement here (atomically); without it, print it")
    mi.add_argument("--compact", action="store_true", help="write the JSON on one line")
    args = ap.parse_args(argv)
    if args.command == "run":
        return cmd_run(args, argv)
    if args.command == "micro":
        return cmd_micro(args, argv)
    ap.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

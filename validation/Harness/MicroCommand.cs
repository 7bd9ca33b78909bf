using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Config;
using Sim.Harness.Backends;
using Sim.Harness.Micro;
using Sim.Harness.Training;
using Sim.Workload;
using Sim.Measurements;

namespace Sim.Harness;

/// <summary>`harness micro gemm|embedding|collectives|operators`: the microbenchmarks calibration needs, as a Measurement.</summary>
public static class MicroCommand
{
    public static readonly IReadOnlyList<string> Benches = ["gemm", "embedding", "collectives", "operators"];

    public static Command Create(string[] rawArgs, TextWriter stdout, TextWriter stderr)
    {
        var bench = new Argument<string>("benchmark") { Description = "gemm, embedding, collectives or operators" };
        bench.AcceptOnlyFromAmong([.. Benches]);
        var device = RunCommand.DeviceOption();
        var sizes = new Option<string?>("--sizes")
        {
            Description = "gemm: N (square) or MxKxN, comma-separated (replaces the square sizes); " +
                          "embedding: ROWSxDIMxPOOLINGxBATCH, comma-separated; collectives: bytes (K/M/G suffixes, powers of 1024), comma-separated, or MIN:MAX for powers of 4",
        };
        var world = new Option<string?>("--world") { Description = "collectives: world sizes, e.g. 1,2,4 or 4 for 1..4 (default: 1..all GPUs; cpu: 2); gemm: world sizes whose local batch to use (default: GPUs available)" };
        var workloads = new Option<string[]>("--workloads") { Description = "gemm: workload files whose MLP shapes to measure", AllowMultipleArgumentsPerToken = true };
        var dtypes = new Option<string?>("--dtypes") { Description = "gemm: fp32, tf32, bf16, fp16, comma-separated (default cuda: fp32,tf32,bf16; cpu: fp32)" };
        var warmup = new Option<int>("--warmup") { Description = "untimed calls before measuring", DefaultValueFactory = _ => 3 };
        var reps = new Option<int?>("--repetitions") { Description = "timed repetitions; the median is reported (default 10 for operators, else 7)" };
        var output = new Option<string?>("--out") { Description = "write the Measurement JSON here (atomically); without it, print it" };
        var compact = RunCommand.CompactOption();
        var stacks = new Option<string>("--stacks") { Description = "operators: the stacks to measure, eager and/or fused, comma-separated", DefaultValueFactory = _ => "eager,fused" };
        var quick = new Option<bool>("--quick") { Description = "operators: a tiny grid (seconds; always on the cpu device)" };
        var cmd = new Command("micro", "Microbenchmarks: GEMM shapes, EmbeddingBag forward/backward, collectives by size and world size, the operator grid per stack.")
        {
            bench, device, sizes, world, workloads, dtypes, warmup, reps, stacks, quick, output, compact,
        };
        cmd.SetAction(r =>
        {
            var which = r.GetValue(bench)!;
            var dev = r.GetValue(device)!;
            var settings = new MicroSettings(r.GetValue(warmup), r.GetValue(reps) ?? (which == "operators" ? 10 : 7));
            if (settings.Warmup < 0) throw new SimInputException("--warmup", "", "must be at least 0");
            if (settings.Repetitions < 1) throw new SimInputException("--repetitions", "", "must be at least 1");
            var workloadFiles = r.GetValue(workloads) ?? [];
            var parsedWorkloads = workloadFiles.Select(WorkloadLoader.Load).ToList();
            var worldText = r.GetValue(world);
            var sizesText = r.GetValue(sizes);
            var dtypeList = ParseDtypes(r.GetValue(dtypes), dev);
            var requestedWorlds = worldText is null ? null : ParseWorlds(worldText);
            var stackList = Split(r.GetValue(stacks)!).Select(x => EmbeddingStacks.Parse(x, "--stacks")).Distinct().ToList();
            if (stackList.Count == 0) throw new SimInputException("--stacks", "", "names no stack; expected eager and/or fused");
            var date = MeasurementJson.UtcNow();
            // Only collectives need one GPU per rank; gemm's --world only picks local batch sizes.
            var backend = HarnessApp.CreateBackend(dev, which == "collectives" ? Math.Max(1, requestedWorlds?.Max() ?? 1) : 1, "--world");
            var inputs = workloadFiles.Select(f => MeasurementInput.FromFile("workload", f)).ToList();
            var provenance = ProvenanceInfo.Collect(backend, rawArgs, date);
            if (which == "operators" && stackList.Count == 1) provenance = provenance with { Stack = stackList[0].MeasurementName() };
            var gpuWorld = backend.Name == "cuda" ? backend.MaxWorld : 2;

            IReadOnlyList<GemmResult>? gemm = null;
            IReadOnlyList<EmbeddingResult>? emb = null;
            var coll = new List<CollectiveResult>();
            var ops = new List<OperatorResult>();
            var status = MeasurementStatus.Ok;
            try
            {
                switch (which)
                {
                    case "gemm":
                    {
                        var shapes = new List<GemmBench.Shape>(GemmBench.WorkloadShapes(parsedWorkloads, requestedWorlds ?? [gpuWorld]));
                        shapes.AddRange(sizesText is null
                            ? (dev == "cuda" ? [1024, 2048, 4096, 8192] : new long[] { 128, 256, 512 }).Select(n => new GemmBench.Shape($"square {n}", n, n, n))
                            : ParseGemmSizes(sizesText));
                        gemm = GemmBench.Run(backend, shapes, dtypeList, settings, stderr);
                        break;
                    }
                    case "embedding":
                    {
                        var cases = sizesText is not null ? ParseEmbeddingSizes(sizesText)
                            : dev == "cuda"
                                ? EmbeddingBench.Sweep([100_000, 1_000_000, 10_000_000], [64, 128, 256], [1, 8, 32], [8192, 65536])
                                : EmbeddingBench.Sweep([10_000, 100_000], [16, 64], [1, 8], [256, 1024]);
                        emb = EmbeddingBench.Run(backend, cases, settings, stderr);
                        break;
                    }
                    case "operators":
                    {
                        var grid = r.GetValue(quick) || dev == "cpu" ? OperatorBench.Quick : OperatorBench.Full;
                        OperatorBench.Run(backend, stackList, grid, settings, stderr, ops);
                        break;
                    }
                    default:
                    {
                        var worlds = requestedWorlds ?? (dev == "cuda" ? Enumerable.Range(1, backend.MaxWorld).ToArray() : [2]);
                        var byteSizes = sizesText is not null ? ParseByteSizes(sizesText) : CollectiveBench.DefaultSizes(dev == "cuda" ? 1L << 30 : 1L << 20);
                        CollectiveBench.Run(backend, worlds, byteSizes, settings, stderr, coll);
                        break;
                    }
                }
            }
            catch (RankFailureException e)
            {
                status = MeasurementStatus.Failed(e.Rank, e.Call, e.Error);
            }
            catch (Exception e) when (which == "operators" && e is not SimInputException)
            {
                // A libtorch/CUDA error (e.g. out of memory) keeps what was measured before it.
                status = MeasurementStatus.Failed(0, "micro operators", $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
            var micro = new MicroResults(settings.Warmup, settings.Repetitions, gemm, emb, which == "collectives" ? coll : null,
                which == "operators" ? ops : null);
            var m = new Measurement(MeasurementJson.SchemaVersion, MeasurementKinds.Micro, provenance, inputs, status, null, null, micro);
            var outPath = r.GetValue(output);
            var json = WithExplicitNullOptimizers(MeasurementJson.Write(m, indented: !r.GetValue(compact)), indented: !r.GetValue(compact));
            if (outPath is not null) MeasurementJson.WriteTextAtomically(outPath, json + "\n");
            else stdout.WriteLine(json);
            if (!status.IsOk)
            {
                stderr.WriteLine($"error: rank {status.FailedRank}: {status.FailedCall}: {status.Error}");
                return HarnessApp.RunFailed;
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// OperatorResult.Optimizer is a required constructor parameter that may be null, but the writer leaves null
    /// fields out, so MeasurementJson.Read refuses an operator without an optimizer. Until the schema gives it a
    /// default, operator entries carry an explicit "optimizer": null. Numbers keep their written text.
    /// </summary>
    internal static string WithExplicitNullOptimizers(string json, bool indented)
    {
        if (JsonNode.Parse(json) is not JsonObject root || root["micro"]?["operators"] is not JsonArray ops) return json;
        var changed = false;
        foreach (var op in ops.OfType<JsonObject>())
        {
            if (op.ContainsKey("optimizer")) continue;
            // Keep the schema's key order: optimizer comes right after dtype.
            var entries = op.ToList();
            op.Clear();
            foreach (var (key, value) in entries)
            {
                op[key] = value;
                if (key == "dtype") op["optimizer"] = null;
            }
            changed = true;
        }
        return changed ? root.ToJsonString(new JsonSerializerOptions { WriteIndented = indented }) : json;
    }

    private static IReadOnlyList<string> ParseDtypes(string? text, string device)
    {
        if (text is null) return device == "cuda" ? ["fp32", "tf32", "bf16"] : ["fp32"];
        var list = Split(text);
        foreach (var d in list)
            if (d is not ("fp32" or "tf32" or "bf16" or "fp16"))
                throw new SimInputException("--dtypes", "", $"'{d}' is not a GEMM dtype; expected fp32, tf32, bf16 or fp16");
        return list;
    }

    /// <summary>"4" means 1..4; "1,2,4" is a list.</summary>
    public static int[] ParseWorlds(string text)
    {
        var parts = Split(text);
        var values = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v
            : throw new SimInputException("--world", "", $"'{p}' is not a positive world size")).ToArray();
        return values.Length == 1 ? Enumerable.Range(1, values[0]).ToArray() : values.Distinct().Order().ToArray();
    }

    private static IEnumerable<GemmBench.Shape> ParseGemmSizes(string text) => Split(text).Select(p =>
    {
        var d = Dims(p, "--sizes");
        return d.Length switch
        {
            1 => new GemmBench.Shape($"square {d[0]}", d[0], d[0], d[0]),
            3 => new GemmBench.Shape($"{d[0]}x{d[1]}x{d[2]}", d[0], d[1], d[2]),
            _ => throw new SimInputException("--sizes", "", $"'{p}' is not N or MxKxN"),
        };
    });

    private static IReadOnlyList<EmbeddingBench.Case> ParseEmbeddingSizes(string text) => Split(text).Select(p =>
    {
        var d = Dims(p, "--sizes");
        if (d.Length != 4 || d[1] > 1 << 16 || d[2] > 1 << 16) throw new SimInputException("--sizes", "", $"'{p}' is not ROWSxDIMxPOOLINGxBATCH");
        return new EmbeddingBench.Case(d[0], (int)d[1], (int)d[2], d[3]);
    }).ToList();

    public static long[] ParseByteSizes(string text)
    {
        if (text.Contains(':'))
        {
            var ends = text.Split(':');
            if (ends.Length != 2) throw new SimInputException("--sizes", "", $"'{text}' is not MIN:MAX");
            long lo = Bytes(ends[0]), hi = Bytes(ends[1]);
            var list = new List<long>();
            for (var b = lo; b <= hi; b *= 4) list.Add(b);
            return [.. list];
        }
        return Split(text).Select(Bytes).ToArray();
    }

    private static long Bytes(string s)
    {
        s = s.Trim();
        var mult = 1L;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            mult = char.ToUpperInvariant(s[^1]) switch
            {
                'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30,
                _ => throw new SimInputException("--sizes", "", $"'{s}': unknown suffix (use K, M or G)"),
            };
            s = s[..^1];
        }
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
            throw new SimInputException("--sizes", "", $"'{s}' is not a positive byte count");
        return checked(v * mult);
    }

    private static long[] Dims(string p, string option) => p.Split('x').Select(x =>
        long.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v
            : throw new SimInputException(option, "", $"'{p}': '{x}' is not a positive integer")).ToArray();

    private static List<string> Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}

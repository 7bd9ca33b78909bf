using System.CommandLine;
using System.Globalization;
using Sim.Collectives;
using Sim.Config;
using Sim.Cost;
using Sim.Nccl;
using Sim.Report;
using Sim.Topology;

namespace Sim.Cli;

/// <summary>
/// `sim collective TOPOLOGY --op OP --bytes 1KiB..1GiB [--ranks N] [--algorithm A] [--dtype D] [--plot F] [--json]`:
/// the simulated counterpart of nccl-tests, a row per size with time, algbw, busbw and the algorithm chosen.
/// </summary>
internal static class CollectiveCommand
{
    public static Command Create(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "cluster description (YAML or JSON), e.g. topologies/zionex-16node.yaml" };
        var op = new Option<string>("--op") { Description = "all_to_all, all_reduce, reduce_scatter or all_gather", DefaultValueFactory = _ => "all_reduce" };
        var bytes = new Option<string>("--bytes") { Description = "sizes (nccl-tests size: per-rank buffer): 1MiB, 1KiB..1GiB (doubling), or a comma list", DefaultValueFactory = _ => "1KiB..1GiB" };
        var ranks = new Option<int?>("--ranks") { Description = "use the first N ranks (default: all)" };
        var algorithm = new Option<string>("--algorithm") { Description = "auto (fastest), ring, tree, hierarchical, direct, pairwise", DefaultValueFactory = _ => "auto" };
        var dtype = new Option<string>("--dtype") { Description = "wire format: fp32, fp16, bf16, fp8 (row-wise), int8 (row-wise); sizes stay FP32 bytes", DefaultValueFactory = _ => "fp32" };
        var plot = new Option<string?>("--plot") { Description = "draw busbw against size to this file (.png or .svg)" };
        var json = new Option<bool>("--json") { Description = "print the table as one JSON object" };
        var model = new Option<string?>("--model")
        {
            Description = "prediction (default): the cost an iteration's collective pays, the profile's measured curve or the closed-form link model; " +
                          "routed: NCCL-style algorithms and protocols routed on the cluster graph (reduce_scatter, all_gather, --algorithm)",
        };
        model.AcceptOnlyFromAmong(Prediction, Routed);
        var profile = ModeOption.Profile();
        var cmd = new Command("collective", "Predict a collective over a size sweep, like nccl-tests: time, algbw, busbw, algorithm.")
        {
            topology, op, bytes, ranks, algorithm, dtype, plot, json, model, profile,
        };
        cmd.SetAction(r =>
        {
            var theOp = Word("--op", r.GetValue(op)!, CollectiveOps.Words);
            var theAlgorithm = Word("--algorithm", r.GetValue(algorithm)!, CollectiveAlgorithms.Words);
            var precision = Word("--dtype", r.GetValue(dtype)!, CommPrecision.Words);
            var sizes = ByteSizes.Parse(r.GetValue(bytes)!);
            var plotPath = r.GetValue(plot);
            if (plotPath is not null) PlotFiles.CheckExtension(plotPath, "--plot");
            var path = r.GetValue(topology)!;
            var cluster = TopologyLoader.Load(path);
            var n = r.GetValue(ranks) ?? cluster.WorldSize;
            if (n < 2 || n > cluster.WorldSize)
                throw new SimInputException("--ranks", "", $"must be 2 to {cluster.WorldSize} (the GPUs of '{cluster.Name}'), found {n}");
            // An algorithm, or an op predictions never run, is the routed model's to answer.
            var family = r.GetValue(model) ?? (theAlgorithm != CollectiveAlgorithm.Auto || theOp is CollectiveOp.ReduceScatter or CollectiveOp.AllGather ? Routed : Prediction);
            IReadOnlyList<CollectiveEstimate> rows;
            string costSource, collectiveSource;
            if (family == Prediction)
            {
                if (theAlgorithm != CollectiveAlgorithm.Auto) throw new SimInputException("--algorithm", "", "chooses among the routed model's algorithms: use it with --model routed");
                var sub = SubCluster(cluster, n);
                var cost = ModeOption.Predictor(r.GetValue(profile), null).CostFor(sub);
                rows = sizes.Select(s => PredictedCollective.Estimate(sub, cost, theOp, s, precision)).ToList();
                (costSource, collectiveSource) = (cost.Source, "as a prediction prices it: the profile's measured curve where it has one for this op and GPU count, else the closed-form link model");
            }
            else
            {
                if (r.GetValue(profile) is not null) throw new SimInputException("--profile", "", "prices the prediction model's collectives; the routed model (--model routed) uses its own parameters");
                var routed = new GraphCollectiveModel(cluster.BuildGraph(), CostParameters.Default, CollectiveParameters.Default);
                if (theAlgorithm != CollectiveAlgorithm.Auto && routed.NotApplicable(theOp, theAlgorithm, n) is { } why)
                    throw new SimInputException("--algorithm", "", why);
                rows = sizes.Select(s => routed.Predict(theOp, s, n, theAlgorithm, precision)).ToList();
                (costSource, collectiveSource) = (CostParameters.Default.Source, CollectiveParameters.Default.Source);
            }
            if (r.GetValue(json)) stdout.WriteLine(CollectiveJson.Write(cluster.Name, rows, costSource, collectiveSource));
            else Render(cluster, rows, family, costSource, collectiveSource, stdout);
            if (plotPath is not null)
            {
                CollectivePlot.Save(cluster.Name, rows, plotPath);
                if (!r.GetValue(json)) stdout.WriteLine($"plot drawn to {plotPath}");
            }
            return 0;
        });
        return cmd;
    }

    private static T Word<T>(string option, string value, IReadOnlyDictionary<string, T> words) =>
        words.TryGetValue(value, out var v) ? v
        : throw new SimInputException(option, "", $"unknown value '{value}'; expected one of: {string.Join(", ", words.Keys)}");

    public const string Prediction = "prediction", Routed = "routed";

    /// <summary>The first <paramref name="n"/> GPUs as a cluster of the same family: whole nodes, or part of one node.</summary>
    private static Cluster SubCluster(Cluster c, int n)
    {
        if (n == c.WorldSize) return c;
        if (n % c.GpusPerNode == 0) return Sweep.ClusterFamily.Resize(c, n / c.GpusPerNode, c.GpusPerNode, c.Name);
        if (c.Nodes == 1 || n < c.GpusPerNode) return Sweep.ClusterFamily.Resize(c, 1, n, c.Name);
        throw new SimInputException("--ranks", "", $"{n} ranks are not whole nodes of {c.GpusPerNode} GPUs: the prediction model prices whole nodes (--model routed takes any count)");
    }

    private static void Render(Cluster c, IReadOnlyList<CollectiveEstimate> rows, string family, string costSource, string collectiveSource, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var first = rows[0];
        var nodes = (first.Ranks + c.GpusPerNode - 1) / c.GpusPerNode;
        stdout.WriteLine($"# {first.Op.Word()} on {c.Name}: {first.Ranks} ranks on {nodes} node{(nodes == 1 ? "" : "s")}, wire format {first.DType}");
        stdout.WriteLine($"# size: nccl-tests bytes (FP32 payload); algbw = size / time; busbw = algbw x {BusFactor(first.Op)} (GB = 1e9 B)");
        stdout.WriteLine($"# model: {family}; cost parameters: {costSource}; collectives: {collectiveSource}");
        stdout.WriteLine($"#{"size (B)",14} {"time (us)",12} {"algbw (GB/s)",13} {"busbw (GB/s)",13}  {"algorithm",-13} {"protocol",-8}");
        foreach (var e in rows)
            stdout.WriteLine($" {e.Bytes.ToString("0", inv),14} {(e.Seconds * 1e6).ToString("0.00", inv),12} {(e.AlgBytesPerSecond / 1e9).ToString("0.00", inv),13} {(e.BusBytesPerSecond / 1e9).ToString("0.00", inv),13}  {e.Algorithm.Word(),-13} {e.Protocol,-8}");
    }

    private static string BusFactor(CollectiveOp op) => op == CollectiveOp.AllReduce ? "2(n-1)/n" : "(n-1)/n";
}

using System.Globalization;
using Sim.Predictions;
using Sim.Hardware;

namespace Sim.Sweep;

/// <summary>The type of an axis's values, which decides how the sweep file's scalars are read.</summary>
public enum AxisValueKind { Integer, Number, Word, Switch }

/// <summary>
/// One knob a sweep can vary: its name in the sweep file, how its values are read and checked, and how a value
/// changes a <see cref="SweepPoint"/>. <see cref="All"/> is the catalogue, in expansion order (outermost first;
/// overlap and mode last so that configurations sharing a plan are neighbours).
/// </summary>
public sealed class SweepAxis
{
    public string Name { get; }
    public string Description { get; }
    public AxisValueKind Kind { get; }
    /// <summary>Smallest and largest accepted value of a numeric axis.</summary>
    public double Min { get; }
    public double Max { get; }
    /// <summary>Whether a numeric axis accepts 0 (a load or a spread that may be absent).</summary>
    public bool AllowsZero { get; }
    /// <summary>Whether <see cref="Max"/> itself is refused (a background load of 1 leaves nothing).</summary>
    public bool MaxExclusive { get; }
    /// <summary>Accepted words of a word axis (null: any of <see cref="WordsFactory"/>).</summary>
    private readonly Func<IReadOnlyList<string>>? _words;
    private readonly Func<SweepPoint, object, SweepPoint> _apply;

    private SweepAxis(string name, string description, AxisValueKind kind, Func<SweepPoint, object, SweepPoint> apply,
        double min = 0, double max = 0, Func<IReadOnlyList<string>>? words = null, bool allowsZero = false, bool maxExclusive = false)
    {
        Name = name; Description = description; Kind = kind; _apply = apply; Min = min; Max = max; _words = words;
        AllowsZero = allowsZero; MaxExclusive = maxExclusive;
    }

    public IReadOnlyList<string> Words => _words?.Invoke() ?? [];

    /// <summary>The point with this axis set to <paramref name="value"/> (long, double, string or bool by <see cref="Kind"/>).</summary>
    public SweepPoint Apply(SweepPoint p, object value) => _apply(p, value);

    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "on" : "off",
        _ => value.ToString() ?? "",
    };

    private static readonly string[] CommunicationWords = ["fp32", "fp16", "bf16", "fp8", "int8"];
    private static readonly string[] ComputeWords = ["fp32", "tf32", "fp16", "bf16", "fp8"];

    private static DType D(object v) => DTypes.Words[(string)v];

    public const string BatchSizePerGpu = "batch_size_per_gpu";

    public static IReadOnlyList<SweepAxis> All { get; } =
    [
        new("nodes", "number of nodes (the node shape stays)", AxisValueKind.Integer,
            (p, v) => p with { Nodes = (int)(long)v }, 1, 1_000_000),
        new("gpus_per_node", "GPUs in each node", AxisValueKind.Integer,
            (p, v) => p with { GpusPerNode = (int)(long)v }, 1, 1024),
        new("nic_gbps", "scale-out NIC bandwidth per NIC, Gb/s each way", AxisValueKind.Number,
            (p, v) => p with { NicGbps = (double)v }, 1e-6, 1e7),
        new("nvlink_gbytes_per_second", "intra-node (NVLink) bandwidth per GPU, GB/s each way", AxisValueKind.Number,
            (p, v) => p with { NvlinkGBytesPerSecond = (double)v }, 1e-6, 1e7),
        new("hbm_bytes", "HBM capacity per GPU, bytes", AxisValueKind.Integer,
            (p, v) => p with { HbmBytes = (long)v }, 1, 1L << 50),
        new("comm_precision", "precision of both all-to-alls and the all-reduce", AxisValueKind.Word,
            (p, v) => p with { AllToAllForwardPrecision = D(v), AllToAllBackwardPrecision = D(v), AllReducePrecision = D(v) }, words: () => CommunicationWords),
        new("all_to_all_precision", "precision of the forward and backward all-to-all", AxisValueKind.Word,
            (p, v) => p with { AllToAllForwardPrecision = D(v), AllToAllBackwardPrecision = D(v) }, words: () => CommunicationWords),
        new("all_reduce_precision", "precision of the dense gradient all-reduce", AxisValueKind.Word,
            (p, v) => p with { AllReducePrecision = D(v) }, words: () => CommunicationWords),
        new("compute_precision", "precision of dense compute (the GPU needs a peak for it)", AxisValueKind.Word,
            (p, v) => p with { ComputePrecision = D(v) }, words: () => ComputeWords),
        new("batch_size", "global batch, samples per iteration", AxisValueKind.Integer,
            (p, v) => p with { BatchSize = (long)v }, 1, 1L << 40),
        // Applied after the shape axes (see SweepExpansion): global batch = this x GPUs.
        new(BatchSizePerGpu, "samples per GPU per iteration (global batch = this x GPUs)", AxisValueKind.Integer,
            (p, v) => p with { BatchSize = checked((long)v * p.Gpus) }, 1, 1L << 30),
        // Non-ideal conditions (issue 21): applied by the predictor, never seen by the planner.
        new("background_load", "fraction of every scale-out link (pcie, nic, leaf, spine) taken by other jobs; only event mode sees it", AxisValueKind.Number,
            (p, v) => p with { BackgroundLoad = (double)v }, 0, 1, allowsZero: true, maxExclusive: true),
        new("straggler_factor", "rank 0's compute takes this many times as long (1 = no straggler)", AxisValueKind.Number,
            (p, v) => p with { StragglerFactor = (double)v }, 1e-3, Conditions.Stragglers.MaxFactor),
        new("jitter_sigma", "σ of lognormal compute jitter per task (0 = none); rows hold p50/p90/p99 over the base's iterations", AxisValueKind.Number,
            (p, v) => p with { JitterSigma = (double)v }, 0, Conditions.Jitter.MaxSigma, allowsZero: true),
        new("planner", "sharding planner", AxisValueKind.Word,
            (p, v) => p with { Planner = (string)v }, words: () => Scenario.Planners),
        new("overlap", "communication overlap: on = bucketed all-reduce and pipelined embeddings, off = sequential", AxisValueKind.Switch,
            (p, v) => p with { Overlap = (bool)v }),
        new("mode", "analytical (closed form, fast) or event (discrete-event, contention)", AxisValueKind.Word,
            (p, v) => p with { Mode = PredictionModes.Parse((string)v, "mode") }, words: () => PredictionModes.Words),
    ];

    public static SweepAxis? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    /// <summary>Pairs of axes that set the same knob and so cannot both be varied.</summary>
    public static readonly IReadOnlyList<(string A, string B)> Conflicts =
    [
        ("comm_precision", "all_to_all_precision"),
        ("comm_precision", "all_reduce_precision"),
        ("batch_size", BatchSizePerGpu),
    ];
}

using System.Globalization;
using System.Text;
using Sim.Iterations;

namespace Sim.Tests;

/// <summary>
/// Writes PyTorch profiler (Kineto) traces in the layout PyTorch 2.x exports (deviceProperties, distributedInfo,
/// traceEvents of cpu_op / user_annotation / kernel with External id, Sequence number and Input Dims) of an eager DLRM
/// step whose kernels take a known closed-form time, so that reading, mapping and fitting can be checked exactly.
/// </summary>
public sealed class KinetoFixture
{
    /// <summary>Ground truth, seconds: forward = a + b·lookups + c·lookup bytes; backward = d + e·lookups; sparse step = f·lookup bytes.</summary>
    public const double FwdCall = 8e-6, FwdLookup = 0.3e-9, FwdByte = 1.5e-12, BwdCall = 20e-6, BwdLookup = 0.6e-9, StepByte = 2e-12;

    public static double Forward(double lookups, double dim) => FwdCall + FwdLookup * lookups + FwdByte * lookups * dim * 4;
    public static double Backward(double lookups) => BwdCall + BwdLookup * lookups;
    public static double Step(double lookups, double dim) => StepByte * lookups * dim * 4;

    public sealed record Table(long Rows, int Dim, long Batch, int Pooling)
    {
        public long Lookups => Batch * Pooling;
    }

    private readonly List<string> _events = [];
    private long _ext = 1000, _seq = 1;
    private double _cpu = 1000, _gpu = 1000; // microseconds
    private readonly CultureInfo _inv = CultureInfo.InvariantCulture;
    public int Rank { get; init; }
    public int World { get; init; } = 1;
    public string Gpu { get; init; } = "NVIDIA H200";

    /// <summary>Seconds per phase written for every iteration, by phase name.</summary>
    public Dictionary<string, double> PhaseSeconds { get; } = new(StringComparer.Ordinal);

    private string Num(double v) => v.ToString("R", _inv);

    private void Op(string cat, string name, string tid, double ts, double dur, string args) =>
        _events.Add($"{{\"ph\":\"X\",\"cat\":\"{cat}\",\"name\":\"{name}\",\"pid\":7,\"tid\":{tid},\"ts\":{Num(ts)},\"dur\":{Num(dur)},\"args\":{{{args}}}}}");

    private void Kernel(string name, double seconds, long ext, string extra = "")
    {
        var us = seconds * 1e6;
        _gpu = Math.Max(_gpu, _cpu); // a kernel starts after its launch
        _events.Add($"{{\"ph\":\"X\",\"cat\":\"kernel\",\"name\":\"{name}\",\"pid\":0,\"tid\":7,\"ts\":{Num(_gpu)},\"dur\":{Num(us)},\"args\":{{\"External id\":{ext},\"device\":0,\"stream\":7,\"correlation\":{ext + 1}{extra}}}}}");
        _gpu += us + 1;
    }

    /// <summary>A range on the host whose body runs inside; returns its duration in microseconds.</summary>
    private double Range(string cat, string name, string tid, string args, Action body)
    {
        var start = _cpu;
        _cpu += 1;
        body();
        _cpu = Math.Max(_cpu, _gpu) + 1;
        Op(cat, name, tid, start, _cpu - start, args);
        return _cpu - start;
    }

    /// <summary>One iteration: forward per table, then backward (autograd thread), sparse steps, linear layers, an all-reduce.</summary>
    public KinetoFixture Iteration(IReadOnlyList<Table> tables, (long Batch, long In, long Out) linear, double unmappedSeconds = 0)
    {
        var seqs = new List<long>();
        Phase(Phases.EmbeddingLookup, () =>
        {
            foreach (var t in tables)
            {
                var ext = _ext++; var seq = _seq++;
                seqs.Add(seq);
                Range("cpu_op", "aten::embedding_bag", "1",
                    $"\"External id\":{ext},\"Sequence number\":{seq},\"Input Dims\":[[{t.Rows},{t.Dim}],[{t.Lookups}],[{t.Batch}],[],[],[],[],[],[]],\"Input type\":[\"float\",\"long int\",\"long int\",\"Scalar\"]",
                    () =>
                    {
                        // Two kernels, as EmbeddingBag's forward launches.
                        Kernel("void at::native::(anonymous namespace)::embedding_bag_nbits_kernel<float>(float*)", 0.25 * Forward(t.Lookups, t.Dim), ext);
                        Kernel("void at::native::(anonymous namespace)::EmbeddingBag_updateOutputKernel_sum_mean<float, long>(long const*)", 0.75 * Forward(t.Lookups, t.Dim), ext);
                    });
            }
        });
        var lin = (Ext: _ext++, Seq: _seq++);
        Phase(Phases.DenseForward, () =>
            Range("cpu_op", "aten::linear", "1", $"\"External id\":{_ext++},\"Sequence number\":{lin.Seq},\"Input Dims\":[[{linear.Batch},{linear.In}],[{linear.Out},{linear.In}],[{linear.Out}]],\"Input type\":[\"float\",\"float\",\"float\"]",
                () => Range("cpu_op", "aten::addmm", "1", $"\"External id\":{lin.Ext}", () => Kernel("sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize128x128x32", LinearSeconds(linear), lin.Ext))));
        Phase(Phases.DenseBackward, () =>
        {
            var ext = _ext++;
            Range("cpu_op", "autograd::engine::evaluate_function: AddmmBackward0", "2", $"\"External id\":{_ext++}",
                () => Range("cpu_op", "AddmmBackward0", "2", $"\"External id\":{_ext++},\"Sequence number\":{lin.Seq}",
                    () => Range("cpu_op", "aten::mm", "2", $"\"External id\":{ext}", () => Kernel("sm90_xmma_gemm_f32f32_tf32f32_f32_nt_n", 2 * LinearSeconds(linear), ext))));
        });
        Phase(Phases.EmbeddingBackward, () =>
        {
            for (var i = tables.Count - 1; i >= 0; i--)
            {
                var t = tables[i]; var ext = _ext++;
                Range("cpu_op", "autograd::engine::evaluate_function: EmbeddingBagBackward0", "2", $"\"External id\":{_ext++}",
                    () => Range("cpu_op", "EmbeddingBagBackward0", "2", $"\"External id\":{_ext++},\"Sequence number\":{seqs[i]}",
                        () => Range("cpu_op", "aten::_embedding_bag_sparse_backward", "2", $"\"External id\":{ext}",
                            () => Kernel("void at::native::(anonymous namespace)::compute_grad_weight<float>(long const*)", Backward(t.Lookups), ext))));
            }
            foreach (var t in tables)
            {
                var ext = _ext++;
                Range("user_annotation", "Optimizer.step#SparseStep.step", "1", $"\"External id\":{_ext++}",
                    () => Range("cpu_op", "aten::add_", "1", $"\"External id\":{ext}", () => Kernel("void at::native::index_put_kernel<float>(float*)", Step(t.Lookups, t.Dim), ext)));
            }
        });
        Phase(Phases.AllReduce, () =>
        {
            var ext = _ext++;
            const string coll = "\"Collective name\":\"allreduce\",\"In msg nelems\":1048576,\"Out msg nelems\":1048576,\"Group size\":2,\"dtype\":\"Float\",\"Process Group Ranks\":\"[0, 1]\"";
            Range("cpu_op", "record_param_comms", "1", $"\"External id\":{ext},{coll}", () => Kernel("ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevComm*, unsigned long, ncclWork*)", 100e-6, ext));
        });
        foreach (var p in Phases.All.Where(p => p is not (Phases.EmbeddingLookup or Phases.DenseForward or Phases.DenseBackward or Phases.EmbeddingBackward or Phases.AllReduce)))
            Phase(p, () =>
            {
                if (p == Phases.DenseOptimizer && unmappedSeconds > 0)
                {
                    var ext = _ext++;
                    Range("cpu_op", "aten::mul_", "1", $"\"External id\":{ext}", () => Kernel("void at::native::vectorized_elementwise_kernel<4, at::native::MulFunctor<float>>(int)", unmappedSeconds, ext));
                }
            });
        return this;
    }

    public static double LinearSeconds((long Batch, long In, long Out) l) => 4e-6 + 2.0 * l.Batch * l.In * l.Out / 50e12;

    private void Phase(string name, Action body)
    {
        _cpu = Math.Max(_cpu, _gpu) + 2;
        var us = Range("user_annotation", name, "1", $"\"External id\":{_ext++}", body);
        PhaseSeconds[name] = PhaseSeconds.GetValueOrDefault(name) + us * 1e-6;
    }

    public string Json()
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"schemaVersion\": 1,\n");
        sb.Append($"  \"deviceProperties\": [{{\"id\": 0, \"name\": \"{Gpu}\", \"totalGlobalMem\": 150754820096, \"numSms\": 132}}],\n");
        sb.Append($"  \"distributedInfo\": {{\"backend\": \"nccl\", \"rank\": {Rank}, \"world_size\": {World}, \"nccl_version\": \"2.27.3\"}},\n");
        sb.Append("  \"cuda_runtime_version\": 12080,\n");
        sb.Append("  \"traceEvents\": [\n");
        sb.Append(string.Join(",\n", _events));
        sb.Append(",\n  {\"name\": \"Record Window End\", \"ph\": \"i\", \"s\": \"g\", \"pid\": \"\", \"tid\": \"\", \"ts\": ").Append(Num(_cpu + 10)).Append("}\n");
        sb.Append("  ],\n  \"traceName\": \"fixture.json\",\n  \"displayTimeUnit\": \"ms\",\n  \"baseTimeNanoseconds\": 1700000000000000000\n}\n");
        return sb.ToString();
    }

    public string Write(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, Json());
        return path;
    }
}

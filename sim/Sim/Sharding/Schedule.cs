namespace Sim.Sharding;

/// <summary>
/// How an iteration overlaps communication with compute. The default is strictly sequential (what the
/// harness measures). <see cref="AllReduceBuckets"/> &gt; 0 splits the dense backward into that many buckets,
/// each all-reduced on its own stream while the next bucket computes (DDP-style). <see cref="PipelineEmbeddings"/>
/// runs the next batch's input distribution, lookup and forward all-to-all alongside this batch's dense compute
/// (the paper's pipelining).
/// </summary>
public sealed record Schedule(int AllReduceBuckets = 0, bool PipelineEmbeddings = false)
{
    public static readonly Schedule Sequential = new();
    public bool IsSequential => AllReduceBuckets == 0 && !PipelineEmbeddings;
}

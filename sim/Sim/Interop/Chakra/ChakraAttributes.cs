namespace Sim.Interop.Chakra;

/// <summary>
/// Names of the node attributes Sim writes. The first group is what ASTRA-sim's feeder reads (Chakra's
/// et_feeder_node.cpp: <c>is_cpu_op</c> as bool, <c>comm_type</c> and <c>comm_size</c> as int64,
/// <c>pg_name</c> as string); the <c>sim_</c> ones are Sim's own, kept so that a trace says exactly what Sim
/// predicted (ASTRA-sim keeps unknown attributes aside and ignores them).
/// </summary>
internal static class ChakraAttributes
{
    public const string IsCpuOp = "is_cpu_op";
    public const string CommType = "comm_type";
    public const string CommSize = "comm_size";
    public const string ProcessGroup = "pg_name";

    /// <summary>The <see cref="Iterations.IterationTask.Id"/> the node comes from (int64).</summary>
    public const string SimTaskId = "sim_task_id";
    /// <summary>The node's time on this rank in seconds as Sim priced it, unrounded (double); duration_micros is it rounded.</summary>
    public const string SimSeconds = "sim_seconds";
    /// <summary>An all-to-all: the bytes this rank sends to other ranks in Sim's uneven exchange (int64).</summary>
    public const string SimSendBytes = "sim_send_bytes";
    /// <summary>An all-to-all: the bytes this rank receives from other ranks in Sim's uneven exchange (int64).</summary>
    public const string SimRecvBytes = "sim_recv_bytes";

    /// <summary>The Chakra schema version ASTRA-sim's own generators write into GlobalMetadata.</summary>
    public const string SchemaVersion = "0.0.4";
}

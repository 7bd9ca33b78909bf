namespace Sim.Collectives;

/// <summary>
/// The messages of one phase of a collective, grouped by sender (global ranks, bytes per unit of payload).
/// Produced on demand per sender, so that a 2,048-rank all-to-all never holds four million flows at once.
/// </summary>
internal abstract class Traffic
{
    public abstract IEnumerable<int> Senders { get; }

    /// <summary>Adds the sender's messages (destination, bytes) to <paramref name="into"/>; a message to itself is skipped by the caller.</summary>
    public abstract void MessagesFrom(int sender, List<(int Dst, double Bytes)> into);
}

using System.Text;

namespace Sim.Interop.Chakra;

/// <summary>
/// The communicator groups of an exported iteration, as ASTRA-sim's <c>--comm-group-configuration</c> JSON reads them
/// (Workload::initialize_comm_groups: <c>{"id": [ranks...]}</c>, ids above 0; 0 is its default group of all ranks).
/// Every collective of Sim's iteration graph spans all ranks, so there is one group, <see cref="WorldId"/>, of every
/// rank; collective nodes name it in <c>pg_name</c>.
/// </summary>
internal static class ChakraCommGroups
{
    public const int WorldId = 1;

    /// <summary>The groups: id to its ranks in ascending order.</summary>
    public static IReadOnlyDictionary<int, int[]> Of(int world) =>
        new SortedDictionary<int, int[]> { [WorldId] = Enumerable.Range(0, world).ToArray() };

    /// <summary>The JSON text of <paramref name="groups"/>, ids ascending.</summary>
    public static string Json(IReadOnlyDictionary<int, int[]> groups)
    {
        var sb = new StringBuilder("{\n");
        var i = 0;
        foreach (var (id, ranks) in groups.OrderBy(g => g.Key))
        {
            sb.Append("  \"").Append(id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("\": [")
              .Append(string.Join(", ", ranks.Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture)))).Append(']');
            sb.Append(++i < groups.Count ? ",\n" : "\n");
        }
        return sb.Append("}\n").ToString();
    }
}

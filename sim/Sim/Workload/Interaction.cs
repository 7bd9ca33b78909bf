namespace Sim.Workload;

public enum Interaction { Dot }

public static class Interactions
{
    public static readonly IReadOnlyDictionary<string, Interaction> Words = new Dictionary<string, Interaction> { ["dot"] = Interaction.Dot };
}

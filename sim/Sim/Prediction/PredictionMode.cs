using Sim.Config;

namespace Sim.Predictions;

/// <summary>How an iteration is predicted from its task graph.</summary>
public enum PredictionMode
{
    /// <summary>The longest path with every task at its closed-form cost, no contention (fast: planners and sweeps).</summary>
    Analytical,
    /// <summary>The discrete-event engine: collectives as flows sharing links max-min fairly.</summary>
    Event,
}

/// <summary>The words that name a <see cref="PredictionMode"/> on the command line, in sweep files, keys and JSON.</summary>
internal static class PredictionModes
{
    /// <summary>Every mode's word, in the enum's order.</summary>
    public static readonly IReadOnlyList<string> Words = ["analytical", "event"];

    public static string Word(this PredictionMode mode) => Words[(int)mode];

    /// <summary>The mode a word names; <see cref="SimInputException"/> (naming <paramref name="field"/>) for any other word.</summary>
    public static PredictionMode Parse(string word, string field = "--mode")
    {
        for (var i = 0; i < Words.Count; i++)
            if (Words[i] == word) return (PredictionMode)i;
        throw new SimInputException(field, "", $"unknown mode '{word}'; expected one of: {string.Join(", ", Words)}");
    }
}

namespace Sim.Config;

/// <summary>"Did you mean": the edit distance between a key the user wrote and the keys a reader knows.</summary>
internal static class Spelling
{
    /// <summary>Levenshtein distance (insertions, deletions, substitutions).</summary>
    public static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>The known key nearest to <paramref name="written"/>, if one is close enough to be a typo of it.</summary>
    public static string? Nearest(IEnumerable<string> known, string written) =>
        known.Select(k => (k, d: Distance(k, written))).Where(x => x.d <= Math.Max(2, written.Length / 4))
            .OrderBy(x => x.d).ThenBy(x => x.k, StringComparer.Ordinal).Select(x => x.k).FirstOrDefault();
}

using System.Text.RegularExpressions;

namespace Sim.Tests;

/// <summary>
/// The library's folders form layers (docs/ARCHITECTURE.md): no folder depends on one that depends back on it.
/// Dependencies are read from the sources: `using Sim.X` and qualified `X.Type` names.
/// </summary>
public partial class LayerTests
{
    [GeneratedRegex(@"^namespace Sim\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"^using Sim\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex Using();

    [Fact]
    public void Folders_have_no_dependency_cycles()
    {
        var files = Directory.GetFiles(Fixtures.Repo("sim/Sim"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")).ToList();
        var tops = files.Select(f => Namespace().Match(File.ReadAllText(f))).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
        var qualified = new Regex(@"(?<![\w.])(?:Sim\.)?(" + string.Join("|", tops) + @")\.[A-Z]");
        var deps = tops.ToDictionary(t => t, _ => new HashSet<string>());
        foreach (var f in files)
        {
            var text = File.ReadAllText(f);
            var m = Namespace().Match(text);
            if (!m.Success) continue;
            var from = m.Groups[1].Value;
            foreach (var to in Using().Matches(text).Select(u => u.Groups[1].Value).Concat(qualified.Matches(text).Select(q => q.Groups[1].Value)))
                if (to != from && deps.ContainsKey(to)) deps[from].Add(to);
        }
        foreach (var cycle in StronglyConnected(deps).Where(c => c.Count > 1))
            Assert.Fail($"folders depend on each other in a cycle: {string.Join(" -> ", cycle.Order())} (see docs/ARCHITECTURE.md, Layers)");
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<HashSet<string>> StronglyConnected(Dictionary<string, HashSet<string>> g)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var on = new HashSet<string>();
        var result = new List<HashSet<string>>();
        var next = 0;
        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v); on.Add(v);
            foreach (var w in g[v])
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (on.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var comp = new HashSet<string>();
            string x;
            do { x = stack.Pop(); on.Remove(x); comp.Add(x); } while (x != v);
            result.Add(comp);
        }
        foreach (var v in g.Keys.Order(StringComparer.Ordinal)) if (!index.ContainsKey(v)) Visit(v);
        return result;
    }
}

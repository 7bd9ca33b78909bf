using System.Text.Json.Nodes;

namespace Sim.Tests;

/// <summary>JSON inputs follow the YAML inputs' rule: a duplicate key or an unknown field is one line naming it, exit 2.</summary>
public class JsonInputTests
{
    private static void AssertOneLine(CliRunner.Result r, params string[] parts)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        foreach (var p in parts) Assert.Contains(p, line);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void A_measurement_with_a_misspelt_field_or_a_key_twice_is_refused()
    {
        using var dir = new Fixtures.TempDir();
        var runs = JsonNode.Parse(File.ReadAllText(Fixtures.Repo("validation/runs/2026-12-04-h200x1/micro-1gpu.json")))!.AsArray();
        var m = runs[0]!.AsObject();
        m["provenance"]!["gpu_modle"] = "x";
        var misspelt = dir.Write("misspelt.json", new JsonArray(m.DeepClone()).ToJsonString());
        AssertOneLine(CliRunner.Run("calibrate", "--topology", Fixtures.Repo("topologies/h200x1.yaml"), misspelt, "--out", dir.Path + "/p.json"),
            "misspelt.json: [0].provenance.gpu_modle: unknown field; did you mean 'gpu_model'?");
        var twice = dir.Write("twice.json", "[{\n  \"schema_version\": 1,\n  \"schema_version\": 1\n}]");
        AssertOneLine(CliRunner.Run("calibrate", "--topology", Fixtures.Repo("topologies/h200x1.yaml"), twice, "--out", dir.Path + "/p.json"),
            "twice.json:3:3: schema_version: key appears twice");
    }

    [Fact]
    public void A_profile_with_an_unknown_field_is_refused_at_its_line()
    {
        using var dir = new Fixtures.TempDir();
        var text = File.ReadAllText(Fixtures.Repo("validation/profiles/h100x2.json"));
        var bad = dir.Write("bad.json", text.Replace("\"card\":", "\"cardd\": 1,\n  \"card\":", StringComparison.Ordinal));
        AssertOneLine(CliRunner.Run("predict", Fixtures.Repo("topologies/h100x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"),
            Fixtures.Repo("validation/plans/val-base.2gpu.rw.yaml"), "--profile", bad), "bad.json:", "cardd: unknown field; did you mean 'card'?");
    }

    [Fact]
    public void A_torchrec_plan_with_a_typo_or_a_key_twice_is_refused_and_torchrecs_own_fields_are_not()
    {
        using var dir = new Fixtures.TempDir();
        var (topo, work, plan) = (Fixtures.Repo("topologies/h200x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"), Fixtures.Repo("validation/plans/val-base.2gpu.tw.yaml"));
        var exported = dir.Path + "/tr.json";
        Assert.Equal(0, CliRunner.Run("torchrec", "export", topo, work, plan, "--out", exported).ExitCode);
        var json = JsonNode.Parse(File.ReadAllText(exported))!.AsObject();
        json["tables"]!["t0"]!["enforce_hbm"] = true; // ParameterSharding's own: carried, not refused
        Assert.Equal(0, CliRunner.Run("torchrec", "import", topo, work, dir.Write("ok.json", json.ToJsonString())).ExitCode);
        json["tables"]!["t0"]!["sharding_typo"] = "x";
        AssertOneLine(CliRunner.Run("torchrec", "import", topo, work, dir.Write("typo.json", json.ToJsonString())),
            "typo.json: tables.t0.sharding_typo: unknown field; did you mean 'sharding_type'?");
        var twice = dir.Write("twice.json", File.ReadAllText(exported).Replace("\"world_size\": 2,", "\"world_size\": 2,\n  \"world_size\": 2,", StringComparison.Ordinal));
        AssertOneLine(CliRunner.Run("torchrec", "import", topo, work, twice), "twice.json:4:3: world_size: key appears twice");
    }
}

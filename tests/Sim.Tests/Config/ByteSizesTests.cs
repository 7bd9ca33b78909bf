using Sim.Config;

namespace Sim.Tests;

public class ByteSizesTests
{
    [Theory]
    [InlineData("4096", new[] { 4096.0 })]
    [InlineData("1KiB", new[] { 1024.0 })]
    [InlineData("64MiB", new[] { 64.0 * (1 << 20) })]
    [InlineData("1GiB", new[] { 1024.0 * 1024 * 1024 })]
    [InlineData("1GB", new[] { 1e9 })]
    [InlineData("8K", new[] { 8192.0 })]
    [InlineData("1KiB..8KiB", new[] { 1024.0, 2048, 4096, 8192 })]
    [InlineData("1KiB..5KiB", new[] { 1024.0, 2048, 4096 })]
    [InlineData("1MiB, 3MiB", new[] { 1048576.0, 3145728 })]
    public void Parses_sizes_ranges_and_lists(string text, double[] expected) =>
        Assert.Equal(expected, ByteSizes.Parse(text));

    [Fact]
    public void A_range_is_bounded() =>
        Assert.Contains("more than", Assert.Throws<SimInputException>(() => ByteSizes.Parse("1..1TiB,1..1TiB")).Message);

    [Fact]
    public void Formats_in_binary_units()
    {
        Assert.Equal("1 KiB", ByteSizes.Format(1024));
        Assert.Equal("64 MiB", ByteSizes.Format(64 << 20));
        Assert.Equal("1000 B", ByteSizes.Format(1000));
    }
}

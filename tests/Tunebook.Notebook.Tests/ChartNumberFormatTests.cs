using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>Tick labels. Expected strings are what d3-format / Plotly print for the same value and format.</summary>
public sealed class ChartNumberFormatTests
{
    const string M = NumberFormat.Minus;

    [Theory]
    [InlineData(0.5, 0.5, 3, "0.5")]
    [InlineData(1.0, 0.5, 3, "1")]
    [InlineData(-2.0, 1, 3, M + "2")]
    [InlineData(20000.0, 10000, 50000, "20k")]
    [InlineData(1_500_000.0, 500_000, 3e6, "1.5M")]
    [InlineData(2e9, 1e9, 5e9, "2B")]
    [InlineData(0.00015, 0.00005, 0.0003, "0.00015")]
    [InlineData(2e-6, 1e-6, 5e-6, "2e" + M + "6")]
    [InlineData(1e-17, 0.1, 1, "0")]
    [InlineData(2500.0, 500, 3000, "2500")]
    public void Linear_tick_labels(double value, double step, double maxAbs, string expected) =>
        Assert.Equal(expected, NumberFormat.LinearTick(value, step, maxAbs));

    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(1000.0, "1000")]
    [InlineData(1e5, "100k")]
    [InlineData(0.01, "0.01")]
    [InlineData(1e-5, "1e" + M + "5")]
    [InlineData(2e-3, "0.002")]
    public void Log_tick_labels(double value, string expected) => Assert.Equal(expected, NumberFormat.LogTick(value));

    [Theory]
    [InlineData(950.0, "950")]
    [InlineData(12_615_680.0, "12.6M")]
    [InlineData(999_999.0, "1M")]
    [InlineData(1.1e9, "1.1B")]
    [InlineData(-4200.0, M + "4.2k")]
    [InlineData(0.123456, "0.123")]
    public void Compact_numbers(double value, string expected) => Assert.Equal(expected, NumberFormat.Compact(value));

    [Theory]
    [InlineData("~s", 1_100_048_384.0, "1.10005G")]
    [InlineData("~s", 15e9, "15G")]
    [InlineData("~s", 0.5, "500m")]
    [InlineData(".2s", 1234.0, "1.2k")]
    [InlineData(".2f", 3.14159, "3.14")]
    [InlineData(".0%", 0.256, "26%")]
    [InlineData(",d", 1234567.0, "1,234,567")]
    [InlineData(".3~g", 0.000123456, "0.000123")]
    [InlineData(".1e", 12345.0, "1.2e+4")]
    [InlineData(".0e", 2e-4, "2e" + M + "4")]
    // Ties follow the exact binary value, as JavaScript's toFixed does: 1.255 is 1.25499999...
    [InlineData(".2f", 1.255, "1.25")]
    [InlineData(".2f", 0.125, "0.13")]
    [InlineData(".1e", 0.125, "1.3e" + M + "1")]
    [InlineData(".2f", -0.001, "0.00")]
    [InlineData(".1f", -1.25, M + "1.3")]
    public void D3_formats(string format, double value, string expected) => Assert.Equal(expected, NumberFormat.D3(format, value));

    [Fact]
    public void Unknown_formats_fall_back_instead_of_throwing()
    {
        Assert.False(NumberFormat.IsSupportedD3("$.2f"));
        Assert.Equal("1.23k", NumberFormat.D3("$.2f", 1234));
        Assert.Equal("NaN", NumberFormat.D3(".2f", double.NaN));
    }
}

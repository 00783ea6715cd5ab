using Microsoft.Extensions.Configuration;
using Streaming.Cells.Backends;
using Streaming.Host.Service;

namespace Host.Tests.Service;

/// <summary>Streaming:KernelWidth: how wide the Managed kernel may go, from which the kernel check falls back.</summary>
public sealed class KernelWidthSettingTests
{
    private static readonly string ConfigDirectory = Path.Combine(AppContext.BaseDirectory, "config");

    [Fact]
    public void By_default_the_managed_kernel_takes_the_widest_width_the_cpu_accelerates()
    {
        Assert.Equal(KernelWidth.Auto, Read().ToEngineOptions().Backend.Width);
        var shipped = HostSettings.From(new ConfigurationBuilder().AddJsonFile(Path.Combine(ConfigDirectory, "appsettings.json")).Build(), ConfigDirectory);
        Assert.Equal(KernelWidth.Auto, shipped.KernelWidth);
    }

    [Theory]
    [InlineData("vector256", KernelWidth.Vector256)]
    [InlineData("Scalar", KernelWidth.Scalar)]
    [InlineData("VECTOR512", KernelWidth.Vector512)]
    public void A_width_is_read_in_any_case_and_reaches_the_backend_options(string value, KernelWidth expected)
    {
        Assert.Equal(expected, Read(("KernelWidth", value)).ToEngineOptions().Backend.Width);
    }

    [Theory]
    [InlineData("avx2")]
    [InlineData("2")]
    [InlineData("")]
    public void An_unknown_width_is_refused_with_the_choices(string value)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Read(("KernelWidth", value)));
        Assert.Contains($"Streaming:KernelWidth is '{value}'; expected Auto, Vector512, Vector256 or Scalar", refused.Message, StringComparison.Ordinal);
    }

    private static HostSettings Read(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("Streaming:" + v.Key, v.Value)))
            .Build();
        return HostSettings.From(configuration, ConfigDirectory);
    }
}

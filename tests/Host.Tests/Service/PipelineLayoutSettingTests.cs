using Microsoft.Extensions.Configuration;
using Streaming;
using Streaming.Host.Service;

namespace Host.Tests.Service;

/// <summary>Streaming:PipelineLayout: a stage per layer, or one stage for the whole stack.</summary>
public sealed class PipelineLayoutSettingTests
{
    private static readonly string ConfigDirectory = Path.Combine(AppContext.BaseDirectory, "config");

    [Fact]
    public void By_default_and_as_shipped_the_layout_is_chosen_for_the_backend()
    {
        Assert.Equal(PipelineLayout.Auto, Read().ToEngineOptions().Layout);
        var shipped = HostSettings.From(new ConfigurationBuilder().AddJsonFile(Path.Combine(ConfigDirectory, "appsettings.json")).Build(), ConfigDirectory);
        Assert.Equal(PipelineLayout.Auto, shipped.PipelineLayout);
    }

    [Theory]
    [InlineData("fused", PipelineLayout.Fused)]
    [InlineData("PERLAYER", PipelineLayout.PerLayer)]
    [InlineData("auto", PipelineLayout.Auto)]
    public void A_layout_is_read_in_any_case_and_reaches_the_engine_options(string value, PipelineLayout expected)
    {
        Assert.Equal(expected, Read(("PipelineLayout", value)).ToEngineOptions().Layout);
    }

    [Theory]
    [InlineData("stacked")]
    [InlineData("1")]
    [InlineData("")]
    public void An_unknown_layout_is_refused_with_the_choices(string value)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Read(("PipelineLayout", value)));
        Assert.Contains($"Streaming:PipelineLayout is '{value}'; expected PerLayer, Fused or Auto", refused.Message, StringComparison.Ordinal);
    }

    private static HostSettings Read(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("Streaming:" + v.Key, v.Value)))
            .Build();
        return HostSettings.From(configuration, ConfigDirectory);
    }
}

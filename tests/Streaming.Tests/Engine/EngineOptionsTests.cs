using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class EngineOptionsTests
{
    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(1, 2, 2)]
    [InlineData(2, 16, 8)]
    [InlineData(3, 16, 5)]
    public void Automatic_threads_share_the_cores_between_the_layer_stages(int layers, int processors, int expected)
    {
        foreach (var backend in new[] { BackendOptions.Managed, BackendOptions.TorchCpu })
        {
            var resolved = (EngineOptions.Default with { Backend = backend }).ResolveBackend(layers, processors);
            Assert.Equal(expected, resolved.Threads);
            Assert.Equal(backend.Kind, resolved.Kind);
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 16)]
    public void The_fused_layout_gives_its_one_stage_every_core(int layers, int processors)
    {
        var resolved = (EngineOptions.Default with { Layout = PipelineLayout.Fused }).ResolveBackend(layers, processors);
        Assert.Equal(processors, resolved.Threads);
    }

    [Fact]
    public async Task A_negative_shutdown_save_deadline_is_refused_by_name()
    {
        var options = EngineOptions.Default with { ShutdownSaveDeadline = TimeSpan.FromSeconds(-1) };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => EngineScope.StartAsync(TestModels.Lstm2, options));
        Assert.Contains("ShutdownSaveDeadline is -00:00:01; expected zero (each save tried once) or a positive duration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_layout_that_does_not_exist_is_refused_by_name()
    {
        var options = EngineOptions.Default with { Layout = (PipelineLayout)7 };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => EngineScope.StartAsync(TestModels.Lstm2, options));
        Assert.Contains("Layout is 7; expected PerLayer or Fused", error.Message);
    }

    [Fact]
    public void Threads_set_by_the_user_are_kept()
    {
        var options = EngineOptions.Default with { Backend = BackendOptions.Managed with { Threads = 3 } };
        Assert.Equal(3, options.ResolveBackend(layers: 2, processors: 2).Threads);
    }
}

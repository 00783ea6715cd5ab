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
            var resolved = (EngineOptions.Default with { Backend = backend, Layout = PipelineLayout.PerLayer }).ResolveBackend(layers, processors);
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
        Assert.Contains("Layout is 7; expected PerLayer, Fused or Auto", error.Message);
    }

    [Theory]
    [InlineData(BackendKind.Managed, PipelineLayout.Auto, PipelineLayout.Fused)]
    [InlineData(BackendKind.Torch, PipelineLayout.Auto, PipelineLayout.PerLayer)]
    [InlineData(BackendKind.Managed, PipelineLayout.PerLayer, PipelineLayout.PerLayer)]
    [InlineData(BackendKind.Torch, PipelineLayout.Fused, PipelineLayout.Fused)]
    public void The_automatic_layout_is_fused_on_managed_and_per_layer_on_torch_and_a_named_one_is_kept(BackendKind backend, PipelineLayout asked, PipelineLayout expected)
    {
        var options = EngineOptions.Default with { Backend = new BackendOptions(backend), Layout = asked };
        Assert.Equal(PipelineLayout.Auto, EngineOptions.Default.Layout);
        Assert.Equal(expected, options.ResolveLayout());
        // Threads follow the layout run: every core for the one fused stage, a share each for the layer stages.
        Assert.Equal(expected == PipelineLayout.Fused ? 2 : 1, options.ResolveBackend(layers: 2, processors: 2).Threads);
    }

    [Fact]
    public void Threads_set_by_the_user_are_kept()
    {
        var options = EngineOptions.Default with { Backend = BackendOptions.Managed with { Threads = 3 } };
        Assert.Equal(3, options.ResolveBackend(layers: 2, processors: 2).Threads);
    }
}

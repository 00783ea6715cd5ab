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

    [Fact]
    public void Threads_set_by_the_user_are_kept()
    {
        var options = EngineOptions.Default with { Backend = BackendOptions.Managed with { Threads = 3 } };
        Assert.Equal(3, options.ResolveBackend(layers: 2, processors: 2).Threads);
    }
}

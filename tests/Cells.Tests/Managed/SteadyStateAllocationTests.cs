using Streaming.Cells.Backends;
using Streaming.Cells.Managed;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>
/// After a warm-up, steps and bulk runs of the same size allocate nothing on the calling thread: scratch
/// buffers are kept, and the worker pool hands work over without allocating (the threaded cases prove it,
/// since batch 64 at these sizes is split over both threads).
/// </summary>
public sealed class SteadyStateAllocationTests
{
    [Theory]
    [InlineData(RecurrentMode.Lstm, 0, 1)]
    [InlineData(RecurrentMode.Lstm, 0, 2)]
    [InlineData(RecurrentMode.Lstm, 48, 2)]
    [InlineData(RecurrentMode.Gru, 0, 2)]
    [InlineData(RecurrentMode.RnnRelu, 0, 2)]
    public void A_hundred_steps_at_batch_64_allocate_nothing_after_warm_up(RecurrentMode mode, int projSize, int threads)
    {
        var spec = new ModelSpec(new RecurrentSpec(mode, InputSize: 128, HiddenSize: 128, ProjSize: projSize));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 1), new BackendOptions(Threads: threads));
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(64);
        var slots = Enumerable.Range(0, 64).Select(_ => slab.Allocate()).Reverse().ToArray();
        var input = RandomWeights.Vector(new Random(2), 64 * 128);
        var output = new float[64 * layer.Shape.OutputSize];
        for (var i = 0; i < 10; i++)
        {
            layer.Step(slab, slots, input, output);
        }

        AssertSomeWindowAllocatesNothing(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                layer.Step(slab, slots, input, output);
            }
        });
    }

    [Fact]
    public void Repeated_bulk_runs_of_the_same_size_allocate_nothing_after_warm_up()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 64, HiddenSize: 96, Bidirectional: true));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 1), new BackendOptions(Threads: 2));
        var layer = backend.Layers[0];
        const int steps = 8, batch = 32;
        var input = RandomWeights.Vector(new Random(2), steps * batch * 64);
        var output = new float[steps * batch * 2 * 96];
        var hn = new float[2 * batch * 96];
        var cn = new float[2 * batch * 96];
        layer.Forward(input, steps, batch, default, default, output, hn, cn);

        AssertSomeWindowAllocatesNothing(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                layer.Forward(input, steps, batch, hn, cn, output, hn, cn);
            }
        });
    }

    // A per-call allocation shows in every window; a one-off lazy allocation by the runtime (the first
    // time the caller blocks on a busy machine, say) shows in one at most, and is not steady state.
    private static void AssertSomeWindowAllocatesNothing(Action window)
    {
        var allocated = new List<long>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            window();
            allocated.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            if (allocated[^1] == 0)
            {
                return;
            }
        }

        Assert.Fail($"every window allocated: {string.Join(", ", allocated)} bytes");
    }
}

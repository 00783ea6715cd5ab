using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;
using TorchSharp;

namespace Streaming.Cells.Tests.Torch;

/// <summary>
/// No call leaves a tensor behind. TorchSharp counts, per thread, every tensor created and disposed
/// (<see cref="DisposeScopeManager.Statistics"/>); these tests are synchronous, so the counts are exactly
/// this test's, whatever runs in parallel on other threads.
/// </summary>
public sealed class TorchTensorLeakTests
{
    private static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Many_steps_forwards_and_snapshots_leave_no_live_tensors_behind(string device)
    {
        var specs = new[]
        {
            new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 4, 6, NumLayers: 2), new EmbeddingSpec(9, 4), new HeadSpec(3)),
            new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 4, 6, ProjSize: 2, Bidirectional: true)),
            new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, 4, 6, Bidirectional: true)),
            new ModelSpec(new RecurrentSpec(RecurrentMode.RnnTanh, 4, 6)),
        };
        foreach (var spec in specs)
        {
            using var backend = TorchForwardTests.Create(RandomWeights.For(spec, seed: 5), device);
            var slabs = backend.Layers.Select(l => l.CreateSlab(1)).ToArray();
            var random = new Random(1);

            // Warm-up: the first calls create the layers' reusable staging tensors, which live on purpose.
            Exercise(backend, slabs, random, rounds: 2);
            var before = LiveTensors;
            Exercise(backend, slabs, random, rounds: 50);
            var after = LiveTensors;

            Assert.True(before == after, $"{spec.Recurrent}: {after - before} tensors leaked over 50 rounds ({DisposeScopeManager.Statistics})");
            foreach (var slab in slabs)
            {
                slab.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Disposing_the_backend_and_its_slabs_releases_every_tensor(string device)
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 4, 6, NumLayers: 2), Head: new HeadSpec(3));
        var weights = RandomWeights.For(spec, seed: 5);
        var before = LiveTensors;

        var backend = TorchForwardTests.Create(weights, device);
        var slabs = backend.Layers.Select(l => l.CreateSlab(1)).ToArray();
        Exercise(backend, slabs, new Random(2), rounds: 3);
        foreach (var slab in slabs)
        {
            slab.Dispose();
        }

        backend.Dispose();

        Assert.Equal(before, LiveTensors);
    }

    [Fact]
    public void A_backend_created_inside_a_callers_dispose_scope_survives_that_scope()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 3, 4), Head: new HeadSpec(2));
        IRecurrentBackend backend;
        using (torch.NewDisposeScope())
        {
            backend = TorchForwardTests.Create(RandomWeights.For(spec, seed: 1), "cpu");
        }

        using (backend)
        {
            var layer = (Cells.Torch.TorchLayer)backend.Layers[0];
            using var slab = layer.CreateSlab(1);
            var slot = slab.Allocate();
            var stepped = new float[4];
            var bulk = new float[4];
            var head = new float[2];
            foreach (var minBatch in new[] { 0, int.MaxValue })
            {
                layer.Use(KernelRole.Step, minBatch == 0 ? "libtorch-lstm" : Cells.Torch.TorchLayer.CellsPath);
                slab.Zero(slot);
                layer.Step(slab, new[] { slot }, new float[] { 1, 2, 3 }, stepped);
                layer.Forward(new float[] { 1, 2, 3 }, 1, 1, default, default, bulk, new float[4], new float[4]);
                backend.ApplyHead(bulk, 1, head);
                Compare.Close(bulk, stepped, $"step with library kernel from batch {minBatch}");
                Assert.NotEqual(new float[4], stepped);
                Assert.NotEqual(new float[2], head);
            }
        }
    }

    // Grows the slabs, steps both step paths, runs bulk, snapshots and restores, embeds and applies the head.
    private static void Exercise(IRecurrentBackend backend, IStateSlab[] slabs, Random random, int rounds)
    {
        var spec = backend.Spec;
        for (var round = 0; round < rounds; round++)
        {
            const int batch = 3;
            var x = RandomWeights.Vector(random, batch * spec.InputSize);
            for (var l = 0; l < backend.Layers.Count; l++)
            {
                var layer = backend.Layers[l];
                var s = layer.Shape;
                var output = new float[2 * batch * s.SequenceOutputSize];
                layer.Forward(x.Concat(x).ToArray(), 2, batch, default, default, output, new float[s.Directions * batch * s.OutputSize], new float[s.SlotCSize * batch]);
                if (s.Directions == 1)
                {
                    var slots = Enumerable.Range(0, batch).Select(_ => slabs[l].Allocate()).ToArray();
                    var y = new float[batch * s.OutputSize];
                    var torchLayer = (Cells.Torch.TorchLayer)layer;
                    torchLayer.Use(KernelRole.Step, torchLayer.Candidates(KernelRole.Step)[round % 2 == 0 ? ^1 : 1]);
                    layer.Step(slabs[l], slots, x, y);
                    slabs[l].Write(slots[0], slabs[l].Read(slots[1]));
                    slabs[l].Zero(slots[2]);
                    foreach (var slot in slots)
                    {
                        slabs[l].Free(slot);
                    }

                    x = y;
                }
                else
                {
                    x = output.AsSpan(0, batch * s.SequenceOutputSize).ToArray();
                }
            }

            if (spec.Embedding is { } e)
            {
                backend.Embed(new[] { 0, e.NumEmbeddings - 1 }, new float[2 * e.EmbeddingDim]);
            }

            if (spec.Head is { } h)
            {
                backend.ApplyHead(new float[2 * spec.RecurrentOutputSize], 2, new float[2 * h.OutFeatures]);
            }
        }
    }
}

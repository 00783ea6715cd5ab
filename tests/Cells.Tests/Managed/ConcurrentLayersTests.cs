using Streaming.Cells.Backends;
using Streaming.Cells.Managed;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>Layers of one backend share its worker pool; used from different threads at once they compute exactly what they compute alone.</summary>
public sealed class ConcurrentLayersTests
{
    [Fact]
    public void Layers_stepped_on_different_threads_at_once_give_bit_for_bit_the_results_of_stepping_them_in_turn()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 128, HiddenSize: 128, NumLayers: 2));
        var weights = RandomWeights.For(spec, 6);
        const int batch = 64, steps = 200;
        var inputs = RandomWeights.Vector(new Random(1), steps * batch * 128);

        float[][] Run(bool concurrently)
        {
            using var backend = new ManagedBackend(weights, new BackendOptions(Threads: 2));
            var slabs = backend.Layers.Select(l => l.CreateSlab(batch)).ToArray();
            var slots = slabs.Select(s => Enumerable.Range(0, batch).Select(_ => s.Allocate()).ToArray()).ToArray();
            void Drive(int layer)
            {
                var output = new float[batch * 128];
                for (var t = 0; t < steps; t++)
                {
                    backend.Layers[layer].Step(slabs[layer], slots[layer], inputs.AsMemory(t * batch * 128, batch * 128), output);
                }
            }

            if (concurrently)
            {
                using var start = new Barrier(2);
                var failures = new Exception?[2];
                var threads = Enumerable.Range(0, 2).Select(layer => new Thread(() =>
                {
                    try
                    {
                        start.SignalAndWait();
                        Drive(layer);
                    }
                    catch (Exception e)
                    {
                        failures[layer] = e;
                    }
                })).ToArray();
                Array.ForEach(threads, t => t.Start());
                Array.ForEach(threads, t => t.Join());
                Assert.All(failures, Assert.Null);
            }
            else
            {
                Drive(0);
                Drive(1);
            }

            return slabs.SelectMany((slab, layer) => slots[layer].Select(slot => slab.Read(slot).H.ToArray().Concat(slab.Read(slot).C.ToArray()).ToArray())).ToArray();
        }

        var inTurn = Run(concurrently: false);
        var atOnce = Run(concurrently: true);

        Assert.Equal(inTurn.Length, atOnce.Length);
        for (var i = 0; i < inTurn.Length; i++)
        {
            Assert.Equal(inTurn[i], atOnce[i]);
        }
    }
}

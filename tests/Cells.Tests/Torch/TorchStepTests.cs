using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Torch;

namespace Streaming.Cells.Tests.Torch;

/// <summary>Batched steps of the Torch backend equal libtorch's cell modules per session, on both step paths.</summary>
public sealed class TorchStepTests
{
    /// <summary>Forces a step path: the hand-written cell, or libtorch's sequence kernel at length 1.</summary>
    public enum StepPath
    {
        Hand,
        Library,
    }

    public static TheoryData<RecurrentMode, bool, StepPath, string> ModesBiasesPaths() => TorchTestDevices.With(
        from mode in Enum.GetValues<RecurrentMode>()
        from bias in new[] { true, false }
        from path in Enum.GetValues<StepPath>()
        select (mode, bias, path));

    [Theory]
    [MemberData(nameof(ModesBiasesPaths))]
    public void Step_over_a_batch_of_different_states_matches_pytorchs_cell_equations_per_session(RecurrentMode mode, bool bias, StepPath path, string device)
    {
        var spec = new RecurrentSpec(mode, InputSize: 5, HiddenSize: 6, Bias: bias);
        var weights = RandomWeights.For(new ModelSpec(spec), seed: 31);
        using var backend = TorchForwardTests.Create(weights, device);
        var layer = Force(backend.Layers[0], path);
        var cell = new CellOracle(mode, weights.Layers[0][0]);
        using var slab = layer.CreateSlab(initialCapacity: 2);
        var random = new Random(4);
        const int sessions = 7;
        var slots = new int[sessions];
        var h = new float[sessions][];
        var c = new float[sessions][];
        for (var s = 0; s < sessions; s++)
        {
            slots[s] = slab.Allocate();
            h[s] = RandomWeights.Vector(random, spec.HiddenSize);
            c[s] = spec.HasCellState ? RandomWeights.Vector(random, spec.HiddenSize) : [];
            slab.Write(slots[s], new SlotState(h[s], c[s]));
        }

        for (var step = 0; step < 3; step++)
        {
            // A different subset in a shuffled order each time: rows must follow the slots, not slot order.
            var batch = Enumerable.Range(0, sessions).OrderBy(_ => random.Next()).Take(5).ToArray();
            var input = RandomWeights.Vector(random, batch.Length * spec.InputSize);
            var output = new float[batch.Length * spec.HiddenSize];
            layer.Step(slab, batch.Select(s => slots[s]).ToArray(), input, output);

            for (var row = 0; row < batch.Length; row++)
            {
                var s = batch[row];
                var x = input.AsSpan(row * spec.InputSize, spec.InputSize).ToArray();
                (h[s], c[s]) = cell.Step(x, h[s], c[s]);
                Compare.Close(h[s], output.AsSpan(row * spec.HiddenSize, spec.HiddenSize), $"step {step}, session {s}: output");
            }

            for (var s = 0; s < sessions; s++)
            {
                var state = slab.Read(slots[s]);
                Compare.Close(h[s], state.H.Span, $"step {step}, session {s}: h in the slab");
                Compare.Close(c[s], state.C.Span, $"step {step}, session {s}: c in the slab");
            }
        }
    }

    public static TheoryData<RecurrentMode, bool, StepPath, string> LoopCases() => ModesBiasesPaths();

    [Theory]
    [MemberData(nameof(LoopCases))]
    public void Stepping_tokens_one_by_one_equals_one_forward_over_the_sequence(RecurrentMode mode, bool bias, StepPath path, string device)
    {
        var spec = new RecurrentSpec(mode, InputSize: 4, HiddenSize: 5, NumLayers: 2, Bias: bias);
        var weights = RandomWeights.For(new ModelSpec(spec), seed: 12);
        using var backend = TorchForwardTests.Create(weights, device);
        const int steps = 6, batch = 3;
        var random = new Random(2);
        var input = RandomWeights.Vector(random, steps * batch * spec.InputSize);
        var h0 = RandomWeights.Vector(random, spec.NumLayers * batch * spec.HiddenSize, 0.5);
        var c0 = spec.HasCellState ? RandomWeights.Vector(random, spec.NumLayers * batch * spec.HiddenSize, 0.5) : null;

        var bulk = TorchForwardTests.RunStack(backend, input, steps, batch, h0, c0);
        var loop = StepStack(backend.Layers.Select(l => Force(l, path)).ToList(), input, steps, batch, h0, c0);

        TorchForwardTests.AssertSame(bulk, loop);
    }

    // A projected layer has no library kernel: the hand-written cells are its only step path.
    public static TheoryData<bool, int, string> ProjectedCases() => TorchTestDevices.With(
        from bias in new[] { true, false }
        from layers in new[] { 1, 2 }
        select (bias, layers));

    [Theory]
    [MemberData(nameof(ProjectedCases))]
    public void Projected_lstm_steps_match_the_float64_reference(bool bias, int layers, string device)
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 5, HiddenSize: 7, NumLayers: layers, Bias: bias, ProjSize: 3);
        var weights = RandomWeights.For(new ModelSpec(spec), seed: 23);
        using var backend = TorchForwardTests.Create(weights, device);
        const int steps = 5, batch = 4;
        var random = new Random(3);
        var input = RandomWeights.Vector(random, steps * batch * spec.InputSize);
        var h0 = RandomWeights.Vector(random, layers * batch * spec.OutputSize, 0.5);
        var c0 = RandomWeights.Vector(random, layers * batch * spec.HiddenSize, 0.5);

        var expected = Float64Reference.Run(weights, input, steps, batch, h0, c0);
        var actual = StepStack(backend.Layers.Select(l => Force(l, StepPath.Hand)).ToList(), input, steps, batch, h0, c0);

        TorchForwardTests.AssertSame(expected, actual);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void An_empty_batch_changes_nothing(string device)
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 2, HiddenSize: 3);
        using var backend = TorchForwardTests.Create(RandomWeights.For(new ModelSpec(spec), seed: 1), device);
        using var slab = backend.Layers[0].CreateSlab(1);
        var slot = slab.Allocate();
        slab.Write(slot, new SlotState(new float[] { 1, 2, 3 }, new float[] { 4, 5, 6 }));

        backend.Layers[0].Step(slab, ReadOnlyMemory<int>.Empty, ReadOnlyMemory<float>.Empty, Memory<float>.Empty);

        Assert.Equal(new float[] { 1, 2, 3 }, slab.Read(slot).H.ToArray());
        Assert.Equal(new float[] { 4, 5, 6 }, slab.Read(slot).C.ToArray());
    }

    internal static TorchLayer Force(IRecurrentLayer layer, StepPath path)
    {
        var torchLayer = (TorchLayer)layer;
        torchLayer.Use(KernelRole.Step, path == StepPath.Library ? torchLayer.Candidates(KernelRole.Step).Single(p => p.StartsWith("libtorch-", StringComparison.Ordinal)) : TorchLayer.CellsPath);
        return torchLayer;
    }

    /// <summary>
    /// Feeds a (steps, batch, input) sequence token by token through every layer's Step, one slab per
    /// layer seeded from h0/c0 (PyTorch's (layers, batch, size) layout), and returns what a bulk run reports.
    /// </summary>
    private static SequenceResult StepStack(IReadOnlyList<TorchLayer> layers, float[] input, int steps, int batch, float[] h0, float[]? c0)
    {
        var slabs = new List<IStateSlab>();
        try
        {
            var slots = new int[layers.Count][];
            foreach (var layer in layers)
            {
                var s = layer.Shape;
                var slab = layer.CreateSlab(batch);
                slabs.Add(slab);
                slots[s.Index] = new int[batch];
                for (var b = 0; b < batch; b++)
                {
                    slots[s.Index][b] = slab.Allocate();
                    var h = h0.AsMemory((s.Index * batch + b) * s.OutputSize, s.OutputSize);
                    var c = c0 is null ? ReadOnlyMemory<float>.Empty : c0.AsMemory((s.Index * batch + b) * s.HiddenSize, s.HiddenSize);
                    slab.Write(slots[s.Index][b], new SlotState(h, c));
                }
            }

            var last = layers[^1].Shape;
            var output = new float[steps * batch * last.OutputSize];
            for (var t = 0; t < steps; t++)
            {
                ReadOnlyMemory<float> x = input.AsMemory(t * batch * layers[0].Shape.InputSize, batch * layers[0].Shape.InputSize);
                for (var l = 0; l < layers.Count; l++)
                {
                    var y = new float[batch * layers[l].Shape.OutputSize];
                    layers[l].Step(slabs[l], slots[l], x, y);
                    x = y;
                }

                x.CopyTo(output.AsMemory(t * batch * last.OutputSize));
            }

            var hn = new List<float>();
            var cn = new List<float>();
            for (var l = 0; l < slabs.Count; l++)
            {
                foreach (var slot in slots[l])
                {
                    var state = slabs[l].Read(slot);
                    hn.AddRange(state.H.ToArray());
                    cn.AddRange(state.C.ToArray());
                }
            }

            return new SequenceResult(output, [.. hn], [.. cn]);
        }
        finally
        {
            slabs.ForEach(s => s.Dispose());
        }
    }
}

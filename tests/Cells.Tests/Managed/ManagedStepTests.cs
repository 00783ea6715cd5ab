using Streaming.Cells.Backends;
using Streaming.Cells.Managed;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Managed;

/// <summary>Batched steps over sessions held in slabs give each session exactly what a whole-sequence run gives it.</summary>
public sealed class ManagedStepTests
{
    [Theory]
    [InlineData(RecurrentMode.RnnTanh, true, 1)]
    [InlineData(RecurrentMode.RnnRelu, false, 2)]
    [InlineData(RecurrentMode.Lstm, true, 2)]
    [InlineData(RecurrentMode.Lstm, false, 1)]
    [InlineData(RecurrentMode.Gru, true, 1)]
    [InlineData(RecurrentMode.Gru, false, 2)]
    public void Stepping_a_batch_of_sessions_with_different_states_matches_pytorchs_equations_per_session(RecurrentMode mode, bool bias, int threads)
    {
        var spec = new RecurrentSpec(mode, InputSize: 6, HiddenSize: 35, NumLayers: 2, Bias: bias);
        using var oracle = ModuleOracle.Create(spec, seed: 17);
        AssertStepsMatch(oracle.Weights, (input, steps, batch, h0, c0) => oracle.Run(input, steps, batch, h0, c0), sessions: 7, steps: 5, threads);
    }

    [Theory]
    [InlineData(RecurrentMode.Lstm)]
    [InlineData(RecurrentMode.Gru)]
    [InlineData(RecurrentMode.RnnTanh)]
    public void Stepping_a_batch_large_enough_to_use_both_threads_matches_pytorchs_equations(RecurrentMode mode)
    {
        var spec = new RecurrentSpec(mode, InputSize: 64, HiddenSize: 128, NumLayers: 2);
        using var oracle = ModuleOracle.Create(spec, seed: 3);
        AssertStepsMatch(oracle.Weights, (input, steps, batch, h0, c0) => oracle.Run(input, steps, batch, h0, c0), sessions: 96, steps: 3, threads: 2);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public void Stepping_an_lstm_with_proj_size_matches_the_float64_reference(bool bias, int threads)
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 5, HiddenSize: 24, NumLayers: 2, Bias: bias, ProjSize: 9));
        var weights = RandomWeights.For(spec, seed: 2);
        AssertStepsMatch(weights, (input, steps, batch, h0, c0) => Float64Reference.Run(weights, input, steps, batch, h0, c0), sessions: 5, steps: 4, threads);
    }

    [Fact]
    public void Sessions_left_out_of_a_batch_keep_their_state()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 8));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 5), BackendOptions.Managed);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(4);
        var stepped = slab.Allocate();
        var idle = slab.Allocate();
        var random = new Random(1);
        var idleState = new SlotState(RandomWeights.Vector(random, 8), RandomWeights.Vector(random, 8));
        slab.Write(idle, idleState);

        layer.Step(slab, new[] { stepped }, RandomWeights.Vector(random, 3), new float[8]);

        Assert.Equal(idleState.H.ToArray(), slab.Read(idle).H.ToArray());
        Assert.Equal(idleState.C.ToArray(), slab.Read(idle).C.ToArray());
        Assert.NotEqual(new float[8], slab.Read(stepped).H.ToArray());
    }

    [Fact]
    public void Stepping_a_bidirectional_layer_is_refused_pointing_to_Forward()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, InputSize: 3, HiddenSize: 4, Bidirectional: true));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 1), BackendOptions.Managed);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(1);
        var slot = slab.Allocate();

        var error = Assert.Throws<InvalidOperationException>(() => layer.Step(slab, new[] { slot }, new float[3], new float[8]));

        Assert.Contains("bidirectional layers need the whole sequence; use Forward", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_refuses_wrong_lengths_bad_slots_and_foreign_slabs_with_clear_messages()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 4, NumLayers: 2));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 1), BackendOptions.Managed);
        using var other = new ManagedBackend(RandomWeights.For(spec, 1), BackendOptions.Managed);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(2);
        int a = slab.Allocate(), b = slab.Allocate();
        int[] both = [a, b];

        var badInput = Assert.Throws<ArgumentException>(() => layer.Step(slab, both, new float[5], new float[8]));
        Assert.Equal("input", badInput.ParamName);
        Assert.Contains("has 5 floats; expected 6", badInput.Message, StringComparison.Ordinal);
        var badOutput = Assert.Throws<ArgumentException>(() => layer.Step(slab, both, new float[6], new float[9]));
        Assert.Contains("has 9 floats; expected 8", badOutput.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Step(slab, new[] { a, 7 }, new float[6], new float[8]));
        Assert.Contains("slot 7 is not allocated", unknown.Message, StringComparison.Ordinal);
        var twice = Assert.Throws<ArgumentException>(() => layer.Step(slab, new[] { b, b }, new float[6], new float[8]));
        Assert.Contains("slot 1 appears more than once", twice.Message, StringComparison.Ordinal);
        var foreign = Assert.Throws<ArgumentException>(() => backend.Layers[1].Step(slab, both, new float[8], new float[8]));
        Assert.Equal("slab", foreign.ParamName);
        using var otherSlab = other.Layers[0].CreateSlab(1);
        otherSlab.Allocate();
        Assert.Throws<ArgumentException>(() => layer.Step(otherSlab, new[] { 0 }, new float[3], new float[4]));
    }

    /// <summary>
    /// Runs <paramref name="sessions"/> sessions through every layer token by token, each from its own random
    /// state in slots scattered through the slabs, with the batch order changing every step, and compares each
    /// session's outputs and final state with <paramref name="expected"/> run over the whole batch at once.
    /// </summary>
    private static void AssertStepsMatch(
        ModelWeights weights, Func<float[], int, int, float[]?, float[]?, SequenceResult> expected, int sessions, int steps, int threads)
    {
        var r = weights.Spec.Recurrent;
        var random = new Random(sessions * 13 + steps);
        var input = RandomWeights.Vector(random, steps * sessions * r.InputSize);
        var h0 = RandomWeights.Vector(random, r.NumLayers * sessions * r.OutputSize, 0.5);
        var c0 = r.HasCellState ? RandomWeights.Vector(random, r.NumLayers * sessions * r.HiddenSize, 0.5) : null;
        var reference = expected(input, steps, sessions, h0, c0);
        using var backend = new ManagedBackend(weights, new BackendOptions(Threads: threads));

        var slabs = backend.Layers.Select(layer => layer.CreateSlab(1)).ToArray();
        var slotOf = new int[r.NumLayers, sessions];
        foreach (var (layer, slab) in backend.Layers.Zip(slabs))
        {
            // Sessions take every other slot, last session first; the slots between are freed again.
            var taken = Enumerable.Range(0, 2 * sessions).Select(_ => slab.Allocate()).ToArray();
            var i = layer.Shape.Index;
            for (var s = 0; s < sessions; s++)
            {
                slotOf[i, s] = taken[2 * (sessions - 1 - s) + 1];
                slab.Write(slotOf[i, s], new SlotState(
                    h0.AsMemory((i * sessions + s) * r.OutputSize, r.OutputSize),
                    c0 is null ? ReadOnlyMemory<float>.Empty : c0.AsMemory((i * sessions + s) * r.HiddenSize, r.HiddenSize)));
            }

            var spare = taken.Where((_, k) => k % 2 == 0).ToArray();
            Array.ForEach(spare, slab.Free);
        }

        for (var t = 0; t < steps; t++)
        {
            var order = Enumerable.Range(0, sessions).OrderBy(_ => random.Next()).ToArray();
            var layerInput = order.SelectMany(s => input.AsSpan((t * sessions + s) * r.InputSize, r.InputSize).ToArray()).ToArray();
            foreach (var (layer, slab) in backend.Layers.Zip(slabs))
            {
                var slots = order.Select(s => slotOf[layer.Shape.Index, s]).ToArray();
                var output = new float[sessions * r.OutputSize];
                layer.Step(slab, slots, layerInput, output);
                layerInput = output;
            }

            for (var k = 0; k < sessions; k++)
            {
                var s = order[k];
                Compare.Close(
                    reference.Output.AsSpan((t * sessions + s) * r.OutputSize, r.OutputSize),
                    layerInput.AsSpan(k * r.OutputSize, r.OutputSize),
                    $"output of session {s} at step {t}");
            }
        }

        for (var i = 0; i < r.NumLayers; i++)
        {
            for (var s = 0; s < sessions; s++)
            {
                var state = slabs[i].Read(slotOf[i, s]);
                Compare.Close(reference.HN.AsSpan((i * sessions + s) * r.OutputSize, r.OutputSize), state.H.Span, $"h of session {s} in layer {i}");
                if (r.HasCellState)
                {
                    Compare.Close(reference.CN.AsSpan((i * sessions + s) * r.HiddenSize, r.HiddenSize), state.C.Span, $"c of session {s} in layer {i}");
                }
            }
        }

        foreach (var slab in slabs)
        {
            slab.Dispose();
        }
    }
}

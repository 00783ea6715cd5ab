using FsCheck;
using FsCheck.Fluent;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Contract;

/// <summary>
/// What every backend promises, checked against the float64 transcription of PyTorch's equations, for weights
/// initialised as PyTorch's own modules do: subclassed once per backend (Managed: at every kernel width), and run
/// on every device that backend offers here.
/// </summary>
public abstract class BackendContractTests
{
    /// <summary>The backend configurations under test (Torch: CPU, plus CUDA where present).</summary>
    protected abstract IReadOnlyList<BackendOptions> Configurations { get; }

    [Theory]
    [MemberData(nameof(ParityCases.EveryModeBiasLayersDirectionLayout), MemberType = typeof(ParityCases))]
    public void Bulk_forward_matches_pytorchs_equations(RecurrentMode mode, bool bias, int layers, bool bidirectional, bool batchFirst)
    {
        var spec = new RecurrentSpec(mode, InputSize: 5, HiddenSize: 6, layers, bias, bidirectional);
        using var oracle = ModuleOracle.Create(spec, seed: 100 + layers);
        const int steps = 5, batch = 3;
        var random = new Random(layers * 7 + (bias ? 1 : 0));
        var input = RandomWeights.Vector(random, steps * batch * spec.InputSize);
        var (h0, c0) = RandomState(spec, batch, random);
        // Half the grid starts from given states, half from PyTorch's default zeros.
        var given = batchFirst != bidirectional;
        var expected = given ? oracle.Run(input, steps, batch, h0, c0) : oracle.Run(input, steps, batch);

        foreach (var options in Configurations)
        {
            using var model = new RecurrentModel(RecurrentBackends.Create(oracle.Weights, options));
            var request = SequenceInput.FromVectors(batchFirst ? SwapOuter(input, steps, batch, spec.InputSize) : input, steps, batch) with
            {
                BatchFirst = batchFirst,
                H0 = given ? h0 : ReadOnlyMemory<float>.Empty,
                C0 = given && c0 is not null ? c0 : ReadOnlyMemory<float>.Empty,
            };
            var actual = model.Forward(request);
            var output = actual.Output.ToArray();
            Compare.Close(expected.Output, batchFirst ? SwapOuter(output, batch, steps, spec.Directions * spec.HiddenSize) : output, $"{options} output");
            Compare.Close(expected.HN, actual.HN.Span, $"{options} h_n");
            Compare.Close(expected.CN, actual.CN.Span, $"{options} c_n");
        }
    }

    [Theory]
    [MemberData(nameof(ParityCases.ProjectionGrid), MemberType = typeof(ParityCases))]
    public void Bulk_forward_with_projection_matches_the_float64_reference(bool bias, int layers, bool bidirectional)
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 5, 8, layers, bias, bidirectional, ProjSize: 3));
        var weights = RandomWeights.For(spec, seed: layers);
        const int steps = 6, batch = 2;
        var random = new Random(5);
        var input = RandomWeights.Vector(random, steps * batch * 5);
        var (h0, c0) = RandomState(spec.Recurrent, batch, random);
        var expected = Float64Reference.Run(weights, input, steps, batch, h0, c0);

        foreach (var options in Configurations)
        {
            using var model = new RecurrentModel(RecurrentBackends.Create(weights, options));
            var actual = model.Forward(SequenceInput.FromVectors(input, steps, batch) with { H0 = h0, C0 = c0 });
            Compare.Close(expected.Output, actual.Output.Span, $"{options} output");
            Compare.Close(expected.HN, actual.HN.Span, $"{options} h_n");
            Compare.Close(expected.CN, actual.CN.Span, $"{options} c_n");
        }
    }

    [Theory]
    [MemberData(nameof(ParityCases.SteppableSpecs), MemberType = typeof(ParityCases))]
    public void Loop_mode_equals_bulk_mode(RecurrentMode mode, int projSize)
    {
        var spec = new ModelSpec(new RecurrentSpec(mode, 4, 6, NumLayers: 2, ProjSize: projSize));
        var weights = RandomWeights.For(spec, seed: 21);
        const int steps = 7, sessions = 4;
        var random = new Random(8);
        var input = RandomWeights.Vector(random, steps * sessions * 4);
        var (h0, c0) = RandomState(spec.Recurrent, sessions, random);

        foreach (var options in Configurations)
        {
            using var backend = RecurrentBackends.Create(weights, options);
            var bulk = new RecurrentModel(backend, ownsBackend: false).Forward(SequenceInput.FromVectors(input, steps, sessions) with { H0 = h0, C0 = c0 });
            using var stepper = new SessionStepper(backend, sessions);
            stepper.WriteInitialState(h0, c0);
            for (var t = 0; t < steps; t++)
            {
                var outputs = stepper.Step(input.AsMemory(t * sessions * 4, sessions * 4));
                Compare.Close(bulk.Output.Span.Slice(t * sessions * outputs.Length / sessions, outputs.Length), outputs, $"{options} step {t}");
            }

            var (hN, cN) = stepper.ReadState();
            Compare.Close(bulk.HN.Span, hN, $"{options} h_n");
            Compare.Close(bulk.CN.Span, cN, $"{options} c_n");
        }
    }

    [Theory]
    [MemberData(nameof(ParityCases.SteppableSpecs), MemberType = typeof(ParityCases))]
    public void Sessions_with_different_states_in_one_batch_equal_each_stepped_alone(RecurrentMode mode, int projSize)
    {
        var spec = new ModelSpec(new RecurrentSpec(mode, 3, 5, NumLayers: 2, ProjSize: projSize));
        var weights = RandomWeights.For(spec, seed: 4);
        const int sessions = 5;
        var random = new Random(9);
        var (h0, c0) = RandomState(spec.Recurrent, sessions, random);
        var input = RandomWeights.Vector(random, sessions * 3);

        foreach (var options in Configurations)
        {
            using var backend = RecurrentBackends.Create(weights, options);
            using var together = new SessionStepper(backend, sessions);
            together.WriteInitialState(h0, c0);
            var batched = together.Step(input);
            var width = batched.Length / sessions;
            for (var s = 0; s < sessions; s++)
            {
                using var alone = new SessionStepper(backend, 1);
                alone.WriteInitialState(SelectSession(h0, spec.Recurrent, sessions, s, hidden: false), c0 is null ? null : SelectSession(c0, spec.Recurrent, sessions, s, hidden: true));
                var single = alone.Step(input.AsMemory(s * 3, 3));
                Compare.Close(single, batched.AsSpan(s * width, width), $"{options} session {s}");
            }
        }
    }

    [Fact]
    public void Default_initial_state_equals_explicit_zeros()
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, 4, 5, NumLayers: 2, Bidirectional: true);
        var weights = RandomWeights.For(new ModelSpec(spec), seed: 2);
        var input = RandomWeights.Vector(new Random(1), 3 * 2 * 4);
        var zeros = new float[2 * 2 * 2 * 5];
        foreach (var options in Configurations)
        {
            using var model = new RecurrentModel(RecurrentBackends.Create(weights, options));
            var implicitZeros = model.Forward(SequenceInput.FromVectors(input, 3, 2));
            var explicitZeros = model.Forward(SequenceInput.FromVectors(input, 3, 2) with { H0 = zeros, C0 = zeros });
            Assert.Equal(implicitZeros.Output.ToArray(), explicitZeros.Output.ToArray());
            Assert.Equal(implicitZeros.HN.ToArray(), explicitZeros.HN.ToArray());
            Assert.Equal(implicitZeros.CN.ToArray(), explicitZeros.CN.ToArray());
        }
    }

    [Fact]
    public void A_freed_slot_is_reused_from_zeros()
    {
        var weights = RandomWeights.For(new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, 3, 4)), seed: 6);
        foreach (var options in Configurations)
        {
            using var backend = RecurrentBackends.Create(weights, options);
            var layer = backend.Layers[0];
            using var slab = layer.CreateSlab(1);
            var slot = slab.Allocate();
            var output = new float[4];
            layer.Step(slab, new[] { slot }, new float[] { 1, -2, 3 }, output);
            Assert.Contains(slab.Read(slot).H.ToArray(), v => v != 0);
            slab.Free(slot);

            var reused = slab.Allocate();
            Assert.Equal(new float[4], slab.Read(reused).H.ToArray());
            var again = new float[4];
            layer.Step(slab, new[] { reused }, new float[] { 1, -2, 3 }, again);
            Assert.Equal(output, again);
        }
    }

    [Fact]
    public void A_state_read_from_one_slab_continues_bit_for_bit_in_another()
    {
        var weights = RandomWeights.For(new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 3, 6, ProjSize: 2)), seed: 12);
        var random = new Random(4);
        foreach (var options in Configurations)
        {
            using var backend = RecurrentBackends.Create(weights, options);
            var layer = backend.Layers[0];
            using var original = layer.CreateSlab(4);
            using var restored = layer.CreateSlab(4);
            var a = original.Allocate();
            for (var t = 0; t < 5; t++)
            {
                layer.Step(original, new[] { a }, RandomWeights.Vector(random, 3), new float[2]);
            }

            restored.Allocate();
            var b = restored.Allocate();
            restored.Write(b, original.Read(a));
            var token = RandomWeights.Vector(random, 3);
            var fromOriginal = new float[2];
            var fromRestored = new float[2];
            layer.Step(original, new[] { a }, token, fromOriginal);
            layer.Step(restored, new[] { b }, token, fromRestored);
            Assert.Equal(fromOriginal, fromRestored);
            Assert.Equal(original.Read(a).C.ToArray(), restored.Read(b).C.ToArray());
        }
    }

    [Fact]
    public void Embedding_and_head_match_pytorchs_equations()
    {
        var recurrent = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 6, HiddenSize: 7, NumLayers: 2);
        using var oracle = ModuleOracle.Create(recurrent, seed: 31);
        var spec = new ModelSpec(recurrent, new EmbeddingSpec(11, 6), new HeadSpec(4));
        var tensors = new Dictionary<string, FloatTensor>(oracle.Weights.ToTensors());
        foreach (var (key, value) in RandomWeights.For(spec, seed: 3).ToTensors().Where(kv => !kv.Key.StartsWith("weight_", StringComparison.Ordinal) && !kv.Key.StartsWith("bias_", StringComparison.Ordinal)))
        {
            tensors[key] = value;
        }

        var weights = ModelWeights.FromTensors(spec, tensors);
        int[] ids = [0, 5, 10, 3, 3, 7];
        const int steps = 3, batch = 2;
        var embedded = ids.SelectMany(id => weights.Embedding!.Data.Slice(id * 6, 6).ToArray()).ToArray();
        var recurrentOut = oracle.Run(embedded, steps, batch);
        var expected = Float64Linear(recurrentOut.Output, steps * batch, weights.HeadWeight!, weights.HeadBias);

        foreach (var options in Configurations)
        {
            using var model = new RecurrentModel(RecurrentBackends.Create(weights, options));
            var actual = model.Forward(SequenceInput.FromTokenIds(ids, steps, batch));
            Compare.Close(expected, actual.Output.Span, $"{options} head output");
            Compare.Close(recurrentOut.Output, actual.RecurrentOutput.Span, $"{options} recurrent output");
            Compare.Close(recurrentOut.HN, actual.HN.Span, $"{options} h_n");

            var embeddedOut = new float[2 * 6];
            model.Backend.Embed(new[] { 10, 0 }, embeddedOut);
            Assert.Equal(embedded[(2 * 6)..(3 * 6)].Concat(embedded[..6]), embeddedOut);
        }
    }

    [Theory]
    [MemberData(nameof(ParityCases.KernelCheckSpecs), MemberType = typeof(ParityCases))]
    public void Every_role_of_every_layer_serves_with_one_checked_path_within_tolerance(RecurrentMode mode, bool bidirectional, int projSize, bool head)
    {
        var recurrent = new RecurrentSpec(mode, InputSize: 9, HiddenSize: 12, NumLayers: 2, Bidirectional: bidirectional, ProjSize: projSize);
        var weights = RandomWeights.For(new ModelSpec(recurrent, Head: head ? new HeadSpec(5) : null), seed: 77);

        foreach (var options in Configurations)
        {
            using var backend = RecurrentBackends.Create(weights, options);
            var report = backend.Kernels;
            var roles = new List<(int?, KernelRole)>();
            for (var layer = 0; layer < recurrent.NumLayers; layer++)
            {
                if (!bidirectional)
                {
                    roles.Add((layer, KernelRole.Step));
                }

                roles.Add((layer, KernelRole.Bulk));
            }

            if (head)
            {
                roles.Add((null, KernelRole.Head));
            }

            Assert.Equal(roles, report.Chosen.Select(t => (t.Layer, t.Role)).ToList());
            Assert.All(report.Chosen, t => Assert.True(t.Passed && t.MaxError <= report.Tolerance, $"{options}: {t}"));
            Assert.Equal(1e-5, report.Tolerance);
            Assert.Equal(backend.Name, report.Backend);
            Assert.Contains(Environment.ProcessorCount + " cores", report.Cpu, StringComparison.Ordinal);
            Assert.True(report.Duration > TimeSpan.Zero);

            // Every path of every role, tried: what Create chose is the first that passed, and a rejected path is never chosen.
            var every = RecurrentBackends.CheckEveryPath(weights, options);
            foreach (var chosen in report.Chosen)
            {
                var tried = every.Trials.Where(t => t.Layer == chosen.Layer && t.Role == chosen.Role).ToList();
                Assert.Equal(tried.First(t => t.Passed).Path, chosen.Path);
                Assert.Equal(tried.First(t => t.Passed).MaxError, chosen.MaxError);
            }

            Assert.Equal(report.Chosen.Select(t => t.ToString()), every.Chosen.Select(t => t.ToString()));
        }
    }

    [FsCheck.Xunit.Property(MaxTest = 40, Arbitrary = [typeof(RandomCaseArbitrary)])]
    public Property Random_configurations_match_the_float64_reference(RandomCase c)
    {
        var weights = RandomWeights.For(new ModelSpec(c.Spec), c.Seed);
        var random = new Random(c.Seed);
        var input = RandomWeights.Vector(random, c.Steps * c.Batch * c.Spec.InputSize);
        var (h0, c0) = c.GivenState ? RandomState(c.Spec, c.Batch, random) : (null, null);
        var expected = Float64Reference.Run(weights, input, c.Steps, c.Batch, h0, c0);
        var worst = 0.0;
        foreach (var options in Configurations)
        {
            using var model = new RecurrentModel(RecurrentBackends.Create(weights, options));
            var actual = model.Forward(SequenceInput.FromVectors(input, c.Steps, c.Batch) with
            {
                H0 = h0 ?? ReadOnlyMemory<float>.Empty,
                C0 = c0 ?? ReadOnlyMemory<float>.Empty,
            });
            worst = Math.Max(worst, Compare.MaxAbsDiff(expected.Output, actual.Output.Span));
            worst = Math.Max(worst, Compare.MaxAbsDiff(expected.HN, actual.HN.Span));
            worst = Math.Max(worst, Compare.MaxAbsDiff(expected.CN, actual.CN.Span));
        }

        return (worst <= Compare.Fp32Tolerance).Label($"max |diff| {worst:E3} for {c}");
    }

    [Fact]
    public void Bad_inputs_are_refused_with_errors_that_say_what_was_expected()
    {
        var weights = RandomWeights.For(new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, 3, 4, Bidirectional: true)), seed: 1);
        foreach (var options in Configurations)
        {
            using var model = new RecurrentModel(RecurrentBackends.Create(weights, options));
            var wrongLength = Assert.Throws<ArgumentException>(() => model.Forward(SequenceInput.FromVectors(new float[5], 2, 1)));
            Assert.Contains("expected 6", wrongLength.Message, StringComparison.Ordinal);

            var nan = Assert.Throws<ArgumentException>(() => model.Forward(SequenceInput.FromVectors(new[] { 1f, float.NaN, 0, 0, 0, 0 }, 2, 1)));
            Assert.Contains("not finite", nan.Message, StringComparison.Ordinal);

            var ids = Assert.Throws<ArgumentException>(() => model.Forward(SequenceInput.FromTokenIds(new[] { 1, 2 }, 2, 1)));
            Assert.Contains("no embedding", ids.Message, StringComparison.Ordinal);

            var badState = Assert.Throws<ArgumentException>(() => model.Forward(SequenceInput.FromVectors(new float[6], 2, 1) with { H0 = new float[3] }));
            Assert.Contains("h_0", badState.Message, StringComparison.Ordinal);

            var layer = model.Backend.Layers[0];
            using var slab = layer.CreateSlab(1);
            var slot = slab.Allocate();
            var bidirectional = Assert.Throws<InvalidOperationException>(() => layer.Step(slab, new[] { slot }, new float[3], new float[8]));
            Assert.Contains("bidirectional", bidirectional.Message, StringComparison.Ordinal);
        }
    }

    private static (float[] H0, float[]? C0) RandomState(RecurrentSpec spec, int batch, Random random)
    {
        var states = spec.NumLayers * spec.Directions * batch;
        var h0 = RandomWeights.Vector(random, states * spec.OutputSize, 0.8);
        var c0 = spec.HasCellState ? RandomWeights.Vector(random, states * spec.HiddenSize, 0.8) : null;
        return (h0, c0);
    }

    // Picks one session's rows out of a (layers, batch, size) state.
    private static float[] SelectSession(float[] state, RecurrentSpec spec, int batch, int session, bool hidden)
    {
        var size = hidden ? spec.HiddenSize : spec.OutputSize;
        return Enumerable.Range(0, spec.NumLayers)
            .SelectMany(l => state.AsSpan((l * batch + session) * size, size).ToArray())
            .ToArray();
    }

    private static float[] SwapOuter(float[] values, int outer, int inner, int features)
    {
        var result = new float[values.Length];
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                Array.Copy(values, (o * inner + i) * features, result, (i * outer + o) * features, features);
            }
        }

        return result;
    }

    // nn.Linear by its definition, y = x W^T + b, in float64.
    private static float[] Float64Linear(float[] input, int rows, FloatTensor weight, FloatTensor? bias)
    {
        int outputs = weight.Shape[0], features = weight.Shape[1];
        var w = weight.Data.Span;
        var y = new float[rows * outputs];
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < outputs; o++)
            {
                double sum = bias is null ? 0 : bias.Data.Span[o];
                for (var k = 0; k < features; k++)
                {
                    sum += (double)input[r * features + k] * w[o * features + k];
                }

                y[r * outputs + o] = (float)sum;
            }
        }

        return y;
    }
}

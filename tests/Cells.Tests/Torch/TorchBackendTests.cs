using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Torch;
using static TorchSharp.torch;

namespace Streaming.Cells.Tests.Torch;

/// <summary>The backend around the layers: devices, embedding, head, and the errors every entry point gives.</summary>
public sealed class TorchBackendTests
{
    private static readonly RecurrentSpec Lstm = new(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 4, NumLayers: 2);

    [Fact]
    public void The_backend_names_its_device()
    {
        using var backend = Backend(new ModelSpec(Lstm), "CPU");

        Assert.Equal("torch:cpu", backend.Name);
        Assert.Equal(2, backend.Layers.Count);
        Assert.Equal(Lstm.Layer(1), backend.Layers[1].Shape);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    public void Cuda_is_used_when_present_and_refused_saying_so_when_not(string device)
    {
        if (cuda.is_available())
        {
            using var backend = Backend(new ModelSpec(Lstm), device);
            Assert.Equal("torch:cuda:0", backend.Name);
            return;
        }

        var error = Assert.Throws<InvalidOperationException>(() => Backend(new ModelSpec(Lstm), device));

        Assert.Contains($"'{device}'", error.Message);
        Assert.Contains("CUDA is unavailable", error.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("")]
    public void An_unknown_device_is_refused_naming_the_supported_ones(string device)
    {
        var error = Assert.Throws<ArgumentException>(() => Backend(new ModelSpec(Lstm), device));

        Assert.Contains($"'{device}'", error.Message);
        Assert.Contains("cuda:N", error.Message);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Stepping_a_bidirectional_layer_is_refused(string device)
    {
        using var backend = Backend(new ModelSpec(Lstm with { Bidirectional = true }), device);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(1);
        var slot = slab.Allocate();

        var error = Assert.Throws<InvalidOperationException>(() => layer.Step(slab, new[] { slot }, new float[3], new float[8]));

        Assert.Contains("bidirectional", error.Message);
        Assert.Contains("Forward", error.Message);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void A_slab_from_another_layer_is_refused(string device)
    {
        using var backend = Backend(new ModelSpec(Lstm with { InputSize = 4 }), device);
        using var other = Backend(new ModelSpec(Lstm with { InputSize = 4 }), device);
        using var slab0 = backend.Layers[0].CreateSlab(1);
        using var foreign = other.Layers[1].CreateSlab(1);
        var slot = slab0.Allocate();
        foreign.Allocate();

        var sibling = Assert.Throws<ArgumentException>(() => backend.Layers[1].Step(slab0, new[] { slot }, new float[4], new float[4]));
        var stranger = Assert.Throws<ArgumentException>(() => backend.Layers[1].Step(foreign, new[] { slot }, new float[4], new float[4]));

        Assert.Equal("slab", sibling.ParamName);
        Assert.Contains("not created by this layer", stranger.Message);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Step_with_wrong_buffer_sizes_or_slots_is_refused_and_changes_nothing(string device)
    {
        using var backend = Backend(new ModelSpec(Lstm), device);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(4);
        var a = slab.Allocate();
        var b = slab.Allocate();
        var state = new SlotState(new float[] { 1, 2, 3, 4 }, new float[] { 5, 6, 7, 8 });
        slab.Write(a, state);

        var input = Assert.Throws<ArgumentException>(() => layer.Step(slab, new[] { a, b }, new float[5], new float[8]));
        var output = Assert.Throws<ArgumentException>(() => layer.Step(slab, new[] { a, b }, new float[6], new float[4]));
        var unallocated = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Step(slab, new[] { a, 3 }, new float[6], new float[8]));
        var twice = Assert.Throws<ArgumentException>(() => layer.Step(slab, new[] { a, a }, new float[6], new float[8]));

        Assert.Contains("input has 5 values; expected 6", input.Message);
        Assert.Contains("output has 4 values; expected 8", output.Message);
        Assert.Contains("slots[1] is slot 3, which is not allocated", unallocated.Message);
        Assert.Contains("slots[1] is slot 0, which appears earlier", twice.Message);
        Assert.Equal(state.H.ToArray(), slab.Read(a).H.ToArray());
        Assert.Equal(state.C.ToArray(), slab.Read(a).C.ToArray());
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Forward_with_wrong_sizes_is_refused_naming_expected_and_found(string device)
    {
        using var backend = Backend(new ModelSpec(Lstm with { Bidirectional = true }), device);
        var layer = backend.Layers[0];
        const int steps = 2, batch = 3;
        float[] input = new float[steps * batch * 3], state = new float[2 * batch * 4], output = new float[steps * batch * 8];

        void Run(float[] i, float[] h0, float[] c0, float[] o, float[] hn, float[] cn, int t = steps, int b = batch) =>
            layer.Forward(i, t, b, h0, c0, o, hn, cn);

        Assert.Contains("input has 17 values; expected 18", Assert.Throws<ArgumentException>(() => Run(new float[17], [], [], output, state, state)).Message);
        Assert.Contains("h0 has 5 values; expected 0 (zeros) or 24", Assert.Throws<ArgumentException>(() => Run(input, new float[5], [], output, state, state)).Message);
        Assert.Contains("c0 has 5 values; expected 0 (zeros) or 24", Assert.Throws<ArgumentException>(() => Run(input, [], new float[5], output, state, state)).Message);
        Assert.Contains("output has 47 values; expected 48", Assert.Throws<ArgumentException>(() => Run(input, [], [], new float[47], state, state)).Message);
        Assert.Contains("hN has 0 values; expected 24", Assert.Throws<ArgumentException>(() => Run(input, [], [], output, [], state)).Message);
        Assert.Contains("cN has 0 values; expected 24", Assert.Throws<ArgumentException>(() => Run(input, [], [], output, state, [])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Run([], [], [], [], state, state, t: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Run([], [], [], [], [], [], b: 0));
    }

    [Fact]
    public void Forward_of_rnn_and_gru_needs_no_cell_state_buffers()
    {
        using var backend = Backend(new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, 3, 4)), "cpu");
        var hn = new float[4];

        backend.Layers[0].Forward(new float[3], 1, 1, ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty, new float[4], hn, Memory<float>.Empty);

        Assert.NotEqual(new float[4], hn);
    }

    [Fact]
    public void Embed_copies_the_rows_of_the_given_ids()
    {
        var spec = new ModelSpec(Lstm, new EmbeddingSpec(NumEmbeddings: 5, EmbeddingDim: 3));
        var weights = RandomWeights.For(spec, seed: 4);
        using var backend = new TorchBackend(weights, BackendOptions.TorchCpu);
        var output = new float[9];

        backend.Embed(new[] { 4, 0, 4 }, output);

        var table = weights.Embedding!.Data.ToArray();
        Assert.Equal(table[12..15].Concat(table[0..3]).Concat(table[12..15]), output);
    }

    [Fact]
    public void Embed_refuses_an_id_outside_the_vocabulary_naming_it_and_the_range()
    {
        using var backend = Backend(new ModelSpec(Lstm, new EmbeddingSpec(5, 3)), "cpu");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => backend.Embed(new[] { 1, 5 }, new float[6]));
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => backend.Embed(new[] { -2 }, new float[3]));

        Assert.Contains("token id 5 at position 1 is outside the embedding's range 0..4", error.Message);
        Assert.Contains("token id -2 at position 0", negative.Message);
        Assert.Contains("output has 2 floats; expected 3", Assert.Throws<ArgumentException>(() => backend.Embed(new[] { 1 }, new float[2])).Message);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void ApplyHead_is_the_linear_layer_over_each_row(string device)
    {
        foreach (var bias in new[] { true, false })
        {
            var spec = new ModelSpec(Lstm with { Bidirectional = true }, Head: new HeadSpec(OutFeatures: 3, Bias: bias));
            var weights = RandomWeights.For(spec, seed: 6);
            using var backend = Backend(weights, device);
            const int rows = 4, features = 8;
            var input = RandomWeights.Vector(new Random(8), rows * features);
            var output = new float[rows * 3];

            backend.ApplyHead(input, rows, output);

            var w = weights.HeadWeight!.Data.Span;
            var expected = new float[rows * 3];
            for (var r = 0; r < rows; r++)
            {
                for (var o = 0; o < 3; o++)
                {
                    double sum = bias ? weights.HeadBias!.Data.Span[o] : 0;
                    for (var k = 0; k < features; k++)
                    {
                        sum += (double)w[o * features + k] * input[r * features + k];
                    }

                    expected[r * 3 + o] = (float)sum;
                }
            }

            Compare.Close(expected, output, $"head (bias {bias})");
        }
    }

    [Fact]
    public void ApplyHead_refuses_wrong_sizes()
    {
        using var backend = Backend(new ModelSpec(Lstm, Head: new HeadSpec(2)), "cpu");

        Assert.Contains("input has 7 values; expected 8", Assert.Throws<ArgumentException>(() => backend.ApplyHead(new float[7], 2, new float[4])).Message);
        Assert.Contains("output has 3 values; expected 4", Assert.Throws<ArgumentException>(() => backend.ApplyHead(new float[8], 2, new float[3])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.ApplyHead(new float[8], -1, new float[4]));
    }

    [Fact]
    public void A_model_without_embedding_or_head_says_so()
    {
        using var backend = Backend(new ModelSpec(Lstm), "cpu");

        Assert.Contains("no embedding", Assert.Throws<InvalidOperationException>(() => backend.Embed(new[] { 0 }, new float[3])).Message);
        Assert.Contains("no head", Assert.Throws<InvalidOperationException>(() => backend.ApplyHead(new float[4], 1, new float[4])).Message);
    }

    [Fact]
    public void A_disposed_backend_refuses_further_use()
    {
        var backend = Backend(new ModelSpec(Lstm, new EmbeddingSpec(2, 3), new HeadSpec(2)), "cpu");
        var layer = backend.Layers[0];
        backend.Dispose();
        backend.Dispose();

        Assert.Throws<ObjectDisposedException>(() => layer.CreateSlab(1));
        Assert.Throws<ObjectDisposedException>(() => layer.Forward(new float[3], 1, 1, default, default, new float[4], new float[4], new float[4]));
        Assert.Throws<ObjectDisposedException>(() => backend.Embed(new[] { 0 }, new float[3]));
        Assert.Throws<ObjectDisposedException>(() => backend.ApplyHead(new float[4], 1, new float[2]));
    }

    private static TorchBackend Backend(ModelSpec spec, string device) => Backend(RandomWeights.For(spec, seed: 2), device);

    private static TorchBackend Backend(Streaming.Cells.Weights.ModelWeights weights, string device) => TorchForwardTests.Create(weights, device);
}

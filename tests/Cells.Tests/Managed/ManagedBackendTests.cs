using Streaming.Cells.Backends;
using Streaming.Cells.Managed;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>The managed backend around its layers: name, embedding look-ups and the linear head.</summary>
public sealed class ManagedBackendTests
{
    private static readonly ModelSpec Full = new(
        new RecurrentSpec(RecurrentMode.Gru, InputSize: 6, HiddenSize: 20, NumLayers: 2, Bidirectional: true),
        new EmbeddingSpec(NumEmbeddings: 11, EmbeddingDim: 6),
        new HeadSpec(OutFeatures: 37));

    [Fact]
    public void The_backend_names_itself_managed_and_exposes_one_layer_per_spec_layer()
    {
        using var backend = new ManagedBackend(RandomWeights.For(Full, 1), BackendOptions.Managed);

        Assert.Equal("managed", backend.Name);
        Assert.Equal(Full, backend.Spec);
        Assert.Equal([Full.Recurrent.Layer(0), Full.Recurrent.Layer(1)], backend.Layers.Select(l => l.Shape));
    }

    [Fact]
    public void Embed_copies_the_rows_of_the_given_ids()
    {
        var weights = RandomWeights.For(Full, 2);
        using var backend = new ManagedBackend(weights, BackendOptions.Managed);
        int[] ids = [3, 0, 10, 3];
        var output = new float[ids.Length * 6];

        backend.Embed(ids, output);

        var table = weights.Embedding!.Data.Span;
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(table.Slice(ids[i] * 6, 6).ToArray(), output.AsSpan(i * 6, 6).ToArray());
        }
    }

    [Fact]
    public void Embed_refuses_an_id_outside_the_vocabulary_naming_it_and_the_range_and_writes_nothing()
    {
        using var backend = new ManagedBackend(RandomWeights.For(Full, 2), BackendOptions.Managed);
        var output = new float[3 * 6];

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => backend.Embed(new[] { 1, 11, 2 }, output));

        Assert.Contains("token id 11 at position 1 is outside the embedding's range 0..10", error.Message, StringComparison.Ordinal);
        Assert.All(output, v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Embed(new[] { -1 }, new float[6]));
        Assert.Throws<ArgumentException>(() => backend.Embed(new[] { 1 }, new float[5]));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 2)]
    [InlineData(300, 2)]
    public void ApplyHead_is_the_linear_layer_on_every_row(int rows, int threads)
    {
        var weights = RandomWeights.For(Full, 3);
        using var backend = new ManagedBackend(weights, new BackendOptions(Threads: threads));
        var input = RandomWeights.Vector(new Random(rows), rows * 40);
        var output = new float[rows * 37];

        backend.ApplyHead(input, rows, output);

        var w = weights.HeadWeight!.Data.Span;
        var b = weights.HeadBias!.Data.Span;
        var expected = new float[rows * 37];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < 37; j++)
            {
                double sum = b[j];
                for (var k = 0; k < 40; k++)
                {
                    sum += (double)input[r * 40 + k] * w[j * 40 + k];
                }

                expected[r * 37 + j] = (float)sum;
            }
        }

        Compare.Close(expected, output, "head output");
    }

    [Fact]
    public void ApplyHead_refuses_buffers_of_the_wrong_length()
    {
        using var backend = new ManagedBackend(RandomWeights.For(Full, 3), BackendOptions.Managed);

        var badInput = Assert.Throws<ArgumentException>(() => backend.ApplyHead(new float[79], 2, new float[74]));
        Assert.Contains("input has 79 floats; expected 80", badInput.Message, StringComparison.Ordinal);
        var badOutput = Assert.Throws<ArgumentException>(() => backend.ApplyHead(new float[80], 2, new float[75]));
        Assert.Contains("output has 75 floats; expected 74", badOutput.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_without_embedding_or_head_says_so()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.RnnTanh, InputSize: 2, HiddenSize: 3));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 1), BackendOptions.Managed);

        Assert.Contains("the model has no embedding", Assert.Throws<InvalidOperationException>(() => backend.Embed(new[] { 0 }, new float[2])).Message, StringComparison.Ordinal);
        Assert.Contains("the model has no head", Assert.Throws<InvalidOperationException>(() => backend.ApplyHead(new float[3], 1, new float[3])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_head_without_bias_is_a_plain_product()
    {
        var spec = Full with { Head = new HeadSpec(OutFeatures: 4, Bias: false) };
        var weights = RandomWeights.For(spec, 4);
        using var backend = new ManagedBackend(weights, BackendOptions.Managed);
        var input = RandomWeights.Vector(new Random(1), 40);
        var output = new float[4];

        backend.ApplyHead(input, 1, output);

        var w = weights.HeadWeight!.Data.ToArray();
        var expected = Enumerable.Range(0, 4).Select(j => (float)Enumerable.Range(0, 40).Sum(k => (double)input[k] * w[j * 40 + k])).ToArray();
        Compare.Close(expected, output, "head output");
    }
}

using Streaming.Cells.Model;

namespace Streaming.Tests.Sessions;

public sealed class SessionSnapshotTests
{
    private static readonly ModelIdentity Model = new("lstm", new string('a', 64));
    private static readonly RecurrentSpec Spec = new(RecurrentMode.Lstm, 3, 4, NumLayers: 2, ProjSize: 2);

    private static SessionSnapshot Sample()
    {
        var random = new Random(5);
        float Next() => (float)(random.NextDouble() * 2 - 1) * 1e-3f;
        return new SessionSnapshot(Model, 17, [
            new LayerState(new[] { Next(), Next() }, new[] { Next(), Next(), Next(), float.Epsilon }),
            new LayerState(new[] { -0f, float.MaxValue }, new[] { Next(), 1f / 3, Next(), float.MinValue }),
        ]);
    }

    private static void AssertBitExact(SessionSnapshot expected, SessionSnapshot actual)
    {
        Assert.Equal(expected.Model, actual.Model);
        Assert.Equal(expected.Position, actual.Position);
        Assert.Equal(expected.Layers.Count, actual.Layers.Count);
        for (var i = 0; i < expected.Layers.Count; i++)
        {
            Assert.Equal(expected.Layers[i].H.ToArray().Select(BitConverter.SingleToInt32Bits), actual.Layers[i].H.ToArray().Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(expected.Layers[i].C.ToArray().Select(BitConverter.SingleToInt32Bits), actual.Layers[i].C.ToArray().Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void Bytes_round_trip_bit_for_bit() => AssertBitExact(Sample(), SessionSnapshot.FromBytes(Sample().ToBytes()));

    [Fact]
    public void Json_round_trips_bit_for_bit() => AssertBitExact(Sample(), SessionSnapshot.FromJson(Sample().ToJson()));

    [Fact]
    public void Hidden_and_cell_state_come_in_pytorch_layer_order()
    {
        var snapshot = Sample();
        Assert.Equal(snapshot.Layers[0].H.ToArray().Concat(snapshot.Layers[1].H.ToArray()), snapshot.HiddenState());
        Assert.Equal(snapshot.Layers[0].C.ToArray().Concat(snapshot.Layers[1].C.ToArray()), snapshot.CellState());
    }

    [Fact]
    public void Every_truncation_of_the_bytes_is_refused_as_malformed()
    {
        var bytes = Sample().ToBytes();
        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<EngineException>(() => SessionSnapshot.FromBytes(bytes.AsSpan(0, length)));
            Assert.Equal(EngineErrorCode.MalformedSnapshot, error.Code);
        }
    }

    [Fact]
    public void Bytes_with_another_magic_or_trailing_garbage_are_refused()
    {
        var bytes = Sample().ToBytes();
        var otherMagic = (byte[])bytes.Clone();
        otherMagic[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<EngineException>(() => SessionSnapshot.FromBytes(otherMagic)).Message, StringComparison.Ordinal);
        var trailing = bytes.Append((byte)0).ToArray();
        Assert.Contains("follow the last layer", Assert.Throws<EngineException>(() => SessionSnapshot.FromBytes(trailing)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "not an object")]
    [InlineData("{\"format\":\"other/1\"}", "format is 'other/1'")]
    [InlineData("{\"format\":\"rnn-snapshot/1\",\"model\":\"m\",\"weights_sha256\":\"x\",\"position\":1}", "'layers' is missing")]
    [InlineData("{\"format\":\"rnn-snapshot/1\",\"model\":\"m\",\"weights_sha256\":\"x\",\"position\":1,\"layers\":[{\"h\":[1,\"a\"],\"c\":[]}]}", "")]
    [InlineData("{ not json", "")]
    public void Malformed_json_is_refused_naming_the_problem(string json, string mention)
    {
        var error = Assert.Throws<EngineException>(() => SessionSnapshot.FromJson(json));
        Assert.Equal(EngineErrorCode.MalformedSnapshot, error.Code);
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_fits_its_own_model_and_shape()
    {
        Sample().EnsureFits(Model, Spec);
    }

    [Fact]
    public void A_snapshot_of_another_model_is_refused_naming_both()
    {
        var error = Assert.Throws<EngineException>(() => Sample().EnsureFits(Model with { WeightsSha256 = new string('b', 64) }, Spec));
        Assert.Equal(EngineErrorCode.ModelMismatch, error.Code);
        Assert.Contains("aaaaaaaaaaaa", error.Message, StringComparison.Ordinal);
        Assert.Contains("bbbbbbbbbbbb", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_of_another_shape_is_refused_naming_the_layer_and_sizes()
    {
        var layers = Assert.Throws<EngineException>(() => Sample().EnsureFits(Model, Spec with { NumLayers = 3 }));
        Assert.Contains("num_layers = 3", layers.Message, StringComparison.Ordinal);
        var hidden = Assert.Throws<EngineException>(() => Sample().EnsureFits(Model, Spec with { ProjSize = 3 }));
        Assert.Contains("layer 0 h has 2 values; expected 3", hidden.Message, StringComparison.Ordinal);
        var cell = Assert.Throws<EngineException>(() => Sample().EnsureFits(Model, Spec with { Mode = RecurrentMode.Gru, ProjSize = 0, HiddenSize = 2 }));
        Assert.Contains("only LSTM has a cell state", cell.Message, StringComparison.Ordinal);
    }
}

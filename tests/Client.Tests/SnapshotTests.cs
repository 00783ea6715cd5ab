using Streaming.Client;

namespace Client.Tests;

/// <summary>The client reads a snapshot's bytes as docs/protocol.md ("The snapshot's bytes") specifies them, without a server.</summary>
public sealed class SnapshotTests
{
    // The example of docs/protocol.md: a one-layer GRU named m, hash ab, at position 2, with h = [0.5].
    private static readonly byte[] DocumentedExample = Convert.FromHexString("524E4E534E415031" + "01000000" + "6D" + "02000000" + "6162" + "0200000000000000" + "01000000" + "01000000" + "0000003F" + "00000000");

    [Fact]
    public void The_documented_example_reads_as_its_model_position_and_state()
    {
        var snapshot = Snapshot.FromBytes(DocumentedExample);

        Assert.Equal(("m", "ab", 2L, 1), (snapshot.Model, snapshot.WeightsSha256, snapshot.Position, snapshot.Layers));
        Assert.Equal([0.5f], snapshot.HiddenState());
        Assert.Empty(snapshot.CellState());
        Assert.Equal(DocumentedExample, snapshot.Bytes.ToArray());
    }

    [Theory]
    [InlineData(0, "magic")]
    [InlineData(12, "model name")]
    [InlineData(20, "position")]
    [InlineData(40, "layer 0 c count")]
    public void Bytes_cut_short_are_refused_naming_the_field_they_end_in(int length, string field)
    {
        var error = Assert.Throws<FormatException>(() => Snapshot.FromBytes(DocumentedExample.AsMemory(0, length)));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_after_the_last_layer_a_negative_position_or_another_magic_are_refused()
    {
        var trailing = Assert.Throws<FormatException>(() => Snapshot.FromBytes(DocumentedExample.Append((byte)0).ToArray()));
        var negative = DocumentedExample.ToArray();
        negative[26] = 0xFF;
        var backwards = Assert.Throws<FormatException>(() => Snapshot.FromBytes(negative));
        var other = DocumentedExample.ToArray();
        other[7] = (byte)'2';
        var magic = Assert.Throws<FormatException>(() => Snapshot.FromBytes(other));

        Assert.Contains("1 byte(s) follow the last layer", trailing.Message, StringComparison.Ordinal);
        Assert.Contains("position is -", backwards.Message, StringComparison.Ordinal);
        Assert.Contains("RNNSNAP1", magic.Message, StringComparison.Ordinal);
    }
}

using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>The byte layouts of docs/protocol.md, pinned: a change here is a protocol change.</summary>
public sealed class FrameLayoutTests
{
    private readonly FrameCodec _codec = new();

    /// <summary>The Status example of docs/protocol.md, field by field.</summary>
    private const string DocumentedStatusHex =
        "6B000000 | 07 | 0700000000000000 | 01 | 0700 6D616E61676564 | 0300 783836 | 0C000000 | F168E388B5F8E43E | 0300" +
        " | 0000 | 0400 73746570 | 0400 76353132 | 000000000000F07F | 00" +
        " | 0000 | 0400 73746570 | 0400 76323536 | 000000000000B03E | 02" +
        " | FFFF | 0400 68656164 | 0400 76323536 | 0000000000000000 | 02";

    private static readonly StatusFrame DocumentedStatus = new(7, true, "managed", "x86", TimeSpan.FromMilliseconds(12), 1e-5,
    [
        new KernelStatus(0, "step", "v512", double.PositiveInfinity, KernelVerdict.Rejected),
        new KernelStatus(0, "step", "v256", Math.Pow(2, -20), KernelVerdict.Chosen),
        new KernelStatus(null, "head", "v256", 0, KernelVerdict.Chosen),
    ]);

    public static TheoryData<string, Frame> Layouts => new()
    {
        { "07000000 | 01 | 524E4E50 | 0100", HelloFrame.Current },
        { "1F000000 | 02 | 0100 | 01 | 40000000 | 40000000 | 00001000 | 00040000 | 00010000 | E0930400 | 0100 6D",
            new WelcomeFrame(1, "m", TokenKind.Ids, 64, 64, ProtocolLimits.Default) },
        { "09000000 | 03 | 0102030405060708", new PingFrame(0x0807060504030201) },
        { "09000000 | 04 | FFFFFFFFFFFFFFFF", new PongFrame(ulong.MaxValue) },
        { "0F000000 | 05 | 0000000000000000 | 00 | 6400 | 0100 78", new ErrorFrame("", 0, 100, "x") },
        { "18000000 | 05 | 0500000000000000 | 0161 | 0A00 | 0100 78 | 0300000000000000", new ErrorFrame("a", 5, 10, "x") { Position = 3 } },
        { "20000000 | 05 | 0500000000000000 | 0161 | 0A00 | 0100 78 | 0300000000000000 | 01000000 0000803F", new ErrorFrame("a", 5, 10, "x") { Position = 3, Output = new[] { 1f } } },
        { "17000000 | 05 | 0500000000000000 | 0161 | 0B00 | 0000 | FFFFFFFFFFFFFF7F", new ErrorFrame("a", 5, 11, "") { Position = long.MaxValue } },
        { "1A000000 | 10 | 0100000000000000 | 0161 | 0100 6D | 01000000 0000803F | 00000000",
            new OpenFrame("a", 1, "m", new[] { 1f }) },
        { "14000000 | 11 | 0500000000000000 | 0161 | 00 | 01000000 | 0000803F", TokenFrame.OfVector("a", 5, new[] { 1f }) },
        { "10000000 | 11 | 0500000000000000 | 0161 | 01 | FEFFFFFF", TokenFrame.OfId("a", 5, -2) },
        { "1C000000 | 11 | 0500000000000000 | 0161 | 00 | 01000000 | 0000803F | 0300000000000000", TokenFrame.OfVector("a", 5, new[] { 1f }, position: 3) },
        { "18000000 | 11 | 0500000000000000 | 0161 | 01 | FEFFFFFF | 0001000000000000", TokenFrame.OfId("a", 5, -2, position: 256) },
        { "09000000 | 06 | 0700000000000000", new StatusRequestFrame(7) },
        { DocumentedStatusHex, DocumentedStatus },
        { "0B000000 | 12 | 0600000000000000 | 0161", new SnapshotRequestFrame("a", 6) },
        { "11000000 | 13 | 0600000000000000 | 0161 | 02000000 ABCD", new RestoreFrame("a", 6, new byte[] { 0xAB, 0xCD }) },
        { "28000000 | 14 | 0200000000000000 | 0172 | 00 | 01000000 | 02000000 | 0000803F 00000040 | 01000000 0000003F | 00000000",
            ReplayFrame.OfVectors("r", 2, 1, 2, new[] { 1f, 2f }) with { H0 = new[] { 0.5f } } },
        { "20000000 | 14 | 0200000000000000 | 0172 | 01 | 02000000 | 03000000 04000000 | 00000000 | 00000000",
            ReplayFrame.OfIds("r", 2, new[] { 3, 4 }) },
        { "0B000000 | 15 | 0700000000000000 | 0161", new ResetFrame("a", 7) },
        { "0B000000 | 16 | 0800000000000000 | 0161", new CloseFrame("a", 8) },
        { "1B000000 | 20 | 0500000000000000 | 0161 | 0300000000000000 | 01000000 | 000080BF", new OutputFrame("a", 5, 3, new[] { -1f }) },
        { "10000000 | 21 | 0600000000000000 | 0161 | 01000000 EE", new SnapshotReplyFrame("a", 6, new byte[] { 0xEE }) },
        { "23000000 | 22 | 0200000000000000 | 0172 | 0A00000000000000 | 02000000 | 01000000 | 0000803F 00000040",
            new ReplayOutputsFrame("r", 2, 10, 2, 1, new[] { 1f, 2f }) },
        { "0C000000 | 23 | 0100000000000000 | 0161 | 10", new AckFrame("a", 1, FrameType.Open) },
        { "43000000 | 17 | 0500000000000000 | 0161 | C8000000 | 01 | 02000000 | 01000000 02000000 | 01 | 0700000000000000 | 000000000000E03F | 28000000 | 000000000000EC3F | 0300 | 01000000 0A000000",
            new GenerateFrame("a", 5, 200) { PromptIds = new[] { 1, 2 }, Random = true, Seed = 7, Temperature = 0.5, TopK = 40, TopP = 0.875, ReportTop = 3, StopIds = new[] { 10 } } },
        { "3F000000 | 17 | 0500000000000000 | 0161 | 01000000 | 00 | 01000000 | 01000000 | 0000803F | 00 | 0000000000000000 | 000000000000F03F | 00000000 | 000000000000F03F | 0000 | 00000000",
            new GenerateFrame("a", 5, 1) { PromptKind = TokenKind.Vectors, PromptWidth = 1, PromptInputs = new[] { 1f } } },
        { "0B000000 | 18 | 0500000000000000 | 0161", new CancelGenerationFrame("a", 5) },
        { "32000000 | 24 | 0500000000000000 | 0161 | 02000000 | 0900000000000000 | 01 | 07000000 | 000000000000E03F | 0100 | 07000000 000000000000E03F",
            new GenerationStepFrame("a", 5, 2, 9) { TokenId = 7, Probability = 0.5, Top = [new(7, 0.5)] } },
        { "20000000 | 24 | 0500000000000000 | 0161 | 00000000 | 0100000000000000 | 00 | 01000000 0000803F",
            new GenerationStepFrame("a", 5, 0, 1) { Kind = TokenKind.Vectors, Output = new[] { 1f } } },
        { "18000000 | 25 | 0500000000000000 | 0161 | 02 | 03000000 | 0A00000000000000", new GenerationEndFrame("a", 5, GenerationEndReason.Cancelled, 3, 10) },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Frames_have_the_documented_bytes(string hex, Frame frame)
    {
        Assert.Equal(Convert.ToHexString(Raw.Hex(hex)), Convert.ToHexString(_codec.Encode(frame)));
        FrameAssert.Equal(frame, _codec.Decode(Raw.Hex(hex)));
    }

    [Fact]
    public void The_status_example_of_the_protocol_document_is_the_frame_it_describes()
    {
        var page = ProtocolPage();
        var section = page.IndexOf("### Status (0x07)", StringComparison.Ordinal);
        var start = page.IndexOf("```\n", section, StringComparison.Ordinal) + 4;
        var example = page[start..page.IndexOf("```", start, StringComparison.Ordinal)];
        Assert.Equal(Convert.ToHexString(Raw.Hex(DocumentedStatusHex)), Convert.ToHexString(Raw.Hex(example.ReplaceLineEndings(" "))));
        Assert.Equal(DocumentedStatus, _codec.Decode(Raw.Hex(example.ReplaceLineEndings(" "))));
    }

    [Fact]
    public void Every_inline_hex_example_of_the_protocol_document_decodes_and_encodes_back_to_itself()
    {
        var examples = System.Text.RegularExpressions.Regex.Matches(ProtocolPage(), "`([0-9A-F]{8}(?: [0-9A-F]+)+)`")
            .Select(m => Raw.Hex(m.Groups[1].Value))
            .ToList();
        Assert.True(examples.Count >= 5, $"found {examples.Count} examples");
        Assert.All(examples, bytes => Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(_codec.Encode(_codec.Decode(bytes)))));
        Assert.Contains(examples, bytes => _codec.Decode(bytes) is StatusRequestFrame { Nonce: 7 });
    }

    [Fact]
    public void Every_frame_type_has_a_documented_layout()
    {
        var documented = Layouts.Select(row => ((Frame)row[1]).Type).ToHashSet();
        Assert.Equal(Enum.GetValues<FrameType>().OrderBy(t => t), documented.OrderBy(t => t));
    }

    private static string ProtocolPage()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "docs", "protocol.md")))
        {
            folder = folder.Parent;
        }

        Assert.NotNull(folder);
        return File.ReadAllText(Path.Combine(folder.FullName, "docs", "protocol.md"));
    }
}

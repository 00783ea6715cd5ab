using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>
/// StatusRequest and Status: every malformed variant is refused as MalformedFrame naming the field, the encoder refuses
/// whatever the decoder refuses, and the frame's own rules (worst error, equality, immutability).
/// </summary>
public sealed class StatusFrameTests
{
    private readonly FrameCodec _codec = new();

    private static readonly KernelStatus Chosen = new(0, "step", "vector512", 1e-7, KernelVerdict.Chosen);

    private static readonly StatusFrame Valid = new(9, true, "managed", "cpu", TimeSpan.FromMilliseconds(3), 1e-5, [Chosen]);

    /// <summary>A Status body up to its kernel count, each field as given.</summary>
    private static byte[][] Head(byte ready = 1, byte[]? backend = null, byte[]? cpu = null, double tolerance = 1e-5, ushort count = 1) =>
        [Raw.U64(9), Raw.U8(ready), Raw.Str(backend ?? "managed"u8.ToArray()), Raw.Str(cpu ?? "cpu"u8.ToArray()), Raw.U32(3), Raw.F64(tolerance), Raw.U16(count)];

    /// <summary>One kernel entry, each field as given.</summary>
    private static byte[] Entry(short layer = 0, byte[]? role = null, byte[]? path = null, double error = 1e-7, byte verdict = 2) =>
        [.. Raw.I16(layer), .. Raw.Str(role ?? "step"u8.ToArray()), .. Raw.Str(path ?? "vector512"u8.ToArray()), .. Raw.F64(error), verdict];

    private static byte[] Status(byte[][] head, params byte[][] entries) => Raw.Frame(0x07, [.. head, .. entries]);

    private ProtocolException Refused(byte[] frame) => Assert.Throws<ProtocolException>(() => _codec.Decode(frame));

    private ProtocolException RefusedToEncode(Frame frame) => Assert.Throws<ProtocolException>(() => _codec.Encode(frame));

    [Fact]
    public void The_hand_built_status_decodes_to_the_frame_it_spells()
    {
        Assert.Equal(Valid, _codec.Decode(Status(Head(), Entry())));
        Assert.Equal(_codec.Encode(Valid), Status(Head(), Entry()));
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "ready flag 2", Status(Head(ready: 2), Entry()), "the ready flag is 2; expected 0 (not ready) or 1 (ready)." },
        { "backend not UTF-8", Status(Head(backend: [0xC3, 0x28]), Entry()), "the backend (2 byte(s)) is not valid UTF-8." },
        { "cpu not UTF-8", Status(Head(cpu: [0xFF]), Entry()), "the cpu (1 byte(s)) is not valid UTF-8." },
        { "backend longer than the frame", Raw.Frame(0x07, Raw.U64(9), Raw.U8(1), Raw.U16(500), new byte[4]), "the frame ends 4 byte(s) into the backend, which needs 500 byte(s)." },
        { "tolerance NaN", Status(Head(tolerance: double.NaN), Entry()), "the tolerance is NaN; expected a finite number, 0 or more." },
        { "tolerance infinite", Status(Head(tolerance: double.PositiveInfinity), Entry()), "the tolerance is Infinity; expected a finite number" },
        { "tolerance negative", Status(Head(tolerance: -1e-5), Entry()), "the tolerance is -1E-05; expected a finite number, 0 or more." },
        { "kernel count beyond the bytes", Status(Head(count: 3), Entry()), "the kernel count is 3, which needs at least 45 byte(s) (15 per kernel), but only 28 remain." },
        { "kernel count of 65535 behind no entry", Status(Head(count: ushort.MaxValue)), "the kernel count is 65535, which needs at least 983025 byte(s) (15 per kernel), but only 0 remain." },
        { "kernel path longer than the frame", Status(Head(), Raw.I16(0), Raw.Str("step"), Raw.U16(40), new byte[9]), "the frame ends 9 byte(s) into the path of kernel 0, which needs 40 byte(s)." },
        { "second kernel cut short", Status(Head(count: 2), Entry(), Entry()[..^1]), "the frame ends 0 byte(s) into the verdict of kernel 1, which needs 1 byte(s)." },
        { "layer -2", Status(Head(), Entry(layer: -2)), "the layer of kernel 0 is -2; expected -1 (the head) or 0 and up." },
        { "layer -32768", Status(Head(), Entry(layer: short.MinValue)), "the layer of kernel 0 is -32768" },
        { "role not UTF-8", Status(Head(), Entry(role: [0xE2, 0x28, 0xA1])), "the role of kernel 0 (3 byte(s)) is not valid UTF-8." },
        { "path not UTF-8", Status(Head(), Entry(path: [0xED, 0xA0, 0x80])), "the path of kernel 0 (3 byte(s)) is not valid UTF-8." },
        { "max error NaN", Status(Head(), Entry(error: double.NaN)), "the max error of kernel 0 is NaN; expected 0 or more, or +infinity for a path that failed." },
        { "max error negative", Status(Head(), Entry(error: -0.5)), "the max error of kernel 0 is -0.5" },
        { "max error negative infinity", Status(Head(), Entry(error: double.NegativeInfinity)), "the max error of kernel 0 is -Infinity" },
        { "verdict 3", Status(Head(), Entry(verdict: 3)), "the verdict of kernel 0 is 3; expected 0 (rejected), 1 (passed, not used) or 2 (chosen)." },
        { "verdict 255", Status(Head(), Entry(verdict: 255)), "the verdict of kernel 0 is 255" },
        { "bytes after the last kernel", Status(Head(), Entry(), Raw.U8(0)), "1 byte(s) follow the last field" },
        { "bytes after an empty list", Status(Head(count: 0), Raw.U16(0)), "2 byte(s) follow the last field" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_status_is_refused_naming_the_field_and_closes_the_connection(string what, byte[] frame, string mention)
    {
        var error = Refused(frame);
        Assert.True(error.Code == ProtocolErrorCode.MalformedFrame, $"{what}: {error.Code}");
        Assert.StartsWith("Status frame: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
        Assert.Null(error.Sequence);
        Assert.True(error.ClosesConnection);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(16)]
    public void A_status_request_of_any_length_but_nine_is_malformed_and_closes_the_connection(int bodyBytes)
    {
        var error = Refused(Raw.Frame(0x06, new byte[bodyBytes]));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.StartsWith("StatusRequest frame: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(bodyBytes < 8 ? "into the nonce, which needs 8 byte(s)" : "follow the last field", error.Message, StringComparison.Ordinal);
        Assert.True(error.ClosesConnection);
    }

    public static TheoryData<string, StatusFrame, string> Unencodable => new()
    {
        { "layer -1 instead of null", Valid with { Kernels = [Chosen with { Layer = -1 }] }, "the layer of kernel 0 is -1; expected 0 to 32767, or null for the head." },
        { "layer over i16", Valid with { Kernels = [Chosen, Chosen with { Layer = 40_000 }] }, "the layer of kernel 1 is 40000; expected 0 to 32767" },
        { "max error NaN", Valid with { Kernels = [Chosen with { MaxError = double.NaN }] }, "the max error of kernel 0 is NaN; expected 0 or more, or +infinity for a path that failed." },
        { "max error negative", Valid with { Kernels = [Chosen with { MaxError = -1e-9 }] }, "the max error of kernel 0 is -1E-09" },
        { "verdict undefined", Valid with { Kernels = [Chosen with { Verdict = (KernelVerdict)3 }] }, "the verdict of kernel 0 is 3; expected 0 (rejected), 1 (passed, not used) or 2 (chosen)." },
        { "tolerance NaN", Valid with { Tolerance = double.NaN }, "the tolerance is NaN; expected a finite number, 0 or more." },
        { "tolerance infinite", Valid with { Tolerance = double.PositiveInfinity }, "the tolerance is Infinity" },
        { "tolerance negative", Valid with { Tolerance = -1 }, "the tolerance is -1" },
        { "check time negative", Valid with { CheckTime = TimeSpan.FromTicks(-1) }, "the check time is -00:00:00.0000001; expected 0 to 4294967295 ms." },
        { "check time over u32 ms", Valid with { CheckTime = TimeSpan.FromMilliseconds(uint.MaxValue + 1L) }, "the check time is 49.17:02:47.2960000; expected 0 to 4294967295 ms." },
        { "role over 65535 bytes", Valid with { Kernels = [Chosen with { Role = new string('r', 65_536) }] }, "the role of kernel 0 is 65536 UTF-8 bytes; expected at most 65535." },
        { "cpu over 65535 bytes", Valid with { Cpu = new string('c', 70_000) }, "the cpu is 70000 UTF-8 bytes; expected at most 65535." },
        { "more than 65535 kernels", Valid with { Kernels = Enumerable.Repeat(Chosen, 65_536).ToArray() }, "it carries 65536 kernels; expected at most 65535." },
    };

    [Theory]
    [MemberData(nameof(Unencodable))]
    public void The_encoder_refuses_a_status_the_decoder_would_refuse_naming_the_field(string what, StatusFrame frame, string mention)
    {
        var error = RefusedToEncode(frame);
        Assert.True(error.Code == ProtocolErrorCode.MalformedFrame, $"{what}: {error.Code}");
        Assert.StartsWith("cannot encode Status frame: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_name_that_is_not_unicode_is_refused_by_the_encoder()
    {
        // Built in code: a lone surrogate does not survive xunit's serialization of theory data.
        var error = RefusedToEncode(Valid with { Kernels = [Chosen with { Path = "v" + (char)0xD800 }] });
        Assert.Contains("the path of kernel 0 is not valid Unicode (a lone surrogate).", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_status_larger_than_the_maximum_frame_size_is_refused_naming_its_size()
    {
        var codec = new FrameCodec(new ProtocolLimits { MaxFrameBytes = 1024 });
        var error = Assert.Throws<ProtocolException>(() => codec.Encode(Valid with { Kernels = Enumerable.Repeat(Chosen, 40).ToArray() }));
        Assert.Equal(ProtocolErrorCode.FrameTooLarge, error.Code);
        Assert.StartsWith("cannot encode Status frame: it takes 1162 bytes; the maximum frame size is 1024 bytes.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_check_time_travels_in_whole_milliseconds()
    {
        var decoded = (StatusFrame)_codec.Decode(_codec.Encode(Valid with { CheckTime = TimeSpan.FromTicks(123_456_789) }));
        Assert.Equal(TimeSpan.FromMilliseconds(12_345), decoded.CheckTime);
    }

    [Fact]
    public void The_head_travels_as_layer_minus_one_and_comes_back_as_no_layer()
    {
        var bytes = _codec.Encode(Valid with { Kernels = [new KernelStatus(null, "head", "h", 0, KernelVerdict.Chosen)] });
        Assert.Equal(Raw.I16(-1), bytes.AsSpan(bytes.Length - 20, 2).ToArray());
        Assert.Null(((StatusFrame)_codec.Decode(bytes)).Kernels[0].Layer);
    }

    [Fact]
    public void The_worst_error_is_the_largest_among_chosen_paths_only()
    {
        var status = Valid with
        {
            Kernels =
            [
                new KernelStatus(0, "step", "fast", double.PositiveInfinity, KernelVerdict.Rejected),
                new KernelStatus(0, "step", "safe", 2e-7, KernelVerdict.Chosen),
                new KernelStatus(0, "bulk", "other", 5e-6, KernelVerdict.Passed),
                new KernelStatus(null, "head", "h", 3e-7, KernelVerdict.Chosen),
            ],
        };
        Assert.Equal(3e-7, status.WorstError);
        Assert.Equal(["safe", "h"], status.Chosen.Select(k => k.Path));
        Assert.Equal(["fast"], status.Rejected.Select(k => k.Path));
        Assert.Equal(0, (Valid with { Kernels = [] }).WorstError);
    }

    [Fact]
    public void A_kernel_names_its_part_as_the_logs_do()
    {
        Assert.Equal("layer 2 bulk", new KernelStatus(2, "bulk", "p", 0, KernelVerdict.Chosen).Part);
        Assert.Equal("head", new KernelStatus(null, "head", "p", 0, KernelVerdict.Chosen).Part);
    }

    [Fact]
    public void Two_statuses_are_equal_when_their_kernels_are_equal_one_by_one()
    {
        var copy = Valid with { Kernels = [Chosen with { }] };
        Assert.Equal(Valid, copy);
        Assert.Equal(Valid.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(Valid, Valid with { Kernels = [Chosen with { MaxError = 2e-7 }] });
        Assert.NotEqual(Valid, Valid with { Ready = false });
    }

    [Fact]
    public void A_status_keeps_its_own_copy_of_the_kernels()
    {
        var kernels = new List<KernelStatus> { Chosen };
        var built = new StatusFrame(1, true, "b", "c", TimeSpan.Zero, 0, kernels);
        var status = Valid with { Kernels = kernels };
        kernels.Add(Chosen);
        Assert.Single(built.Kernels);
        Assert.Single(status.Kernels);
        Assert.Throws<NotSupportedException>(() => ((IList<KernelStatus>)status.Kernels).Add(Chosen));
    }
}

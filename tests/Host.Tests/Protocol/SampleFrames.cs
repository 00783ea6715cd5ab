using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>Valid frames of every type, with edge cases, and a seeded generator of random valid frames.</summary>
internal static class SampleFrames
{
    public static readonly ProtocolLimits Limits = ProtocolLimits.Default;

    private static readonly float[] Odd = [1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, float.MaxValue, BitConverter.Int32BitsToSingle(0x7FC0_1234)];

    public static IEnumerable<Frame> All()
    {
        yield return HelloFrame.Current;
        yield return new HelloFrame(0xBEEF);
        yield return new WelcomeFrame(1, "char-lstm", TokenKind.Ids, 64, 64, Limits);
        yield return new WelcomeFrame(1, "", TokenKind.Vectors, 256, 512,
            new ProtocolLimits { MaxFrameBytes = 4096, MaxSessionsPerConnection = 3, MaxTokensInFlightPerSession = 1, IdleTimeout = TimeSpan.Zero });
        yield return new PingFrame(0);
        yield return new PongFrame(ulong.MaxValue);
        yield return new StatusRequestFrame(0);
        yield return new StatusRequestFrame(ulong.MaxValue);
        yield return new StatusFrame(1, false, "", "", TimeSpan.Zero, 0, []);
        yield return new StatusFrame(ulong.MaxValue, true, "torch:cpu", "AMD Ryzen 9 9950X (znver5; avx512f, avx2) ✓", TimeSpan.FromMilliseconds(uint.MaxValue), 1e-5,
        [
            new KernelStatus(0, "step", "libtorch-lstm", double.PositiveInfinity, KernelVerdict.Rejected),
            new KernelStatus(0, "step", "addmm-cells", 2.9802322387695312e-8, KernelVerdict.Chosen),
            new KernelStatus(0, "bulk", "libtorch-lstm", 0.125, KernelVerdict.Rejected),
            new KernelStatus(0, "bulk", "addmm-cells", double.Epsilon, KernelVerdict.Chosen),
            new KernelStatus(short.MaxValue, "bulk", "vector256", 1e-6, KernelVerdict.Passed),
            new KernelStatus(null, "head", "", -0.0, KernelVerdict.Chosen),
        ]);
        yield return new ErrorFrame("a", 7, 1, "token vector has 3 values; expected 4");
        yield return new ErrorFrame("", 0, (ushort)ProtocolErrorCode.FrameTooLarge, "the length prefix declares too much");
        yield return new ErrorFrame("s", ulong.MaxValue, 65535, "");
        yield return new OpenFrame("a", 1);
        yield return new OpenFrame("sessão-ü-✓", 2, "other-model", new[] { 1f, 2f, 3f }, new[] { -1f });
        yield return new OpenFrame(new string('x', 128), 3, H0: Odd);
        yield return TokenFrame.OfVector("a", 2, new[] { 0.25f, -1f, 3f });
        yield return TokenFrame.OfVector("a", 3, Odd);
        yield return TokenFrame.OfVector("a", 4, ReadOnlyMemory<float>.Empty);
        yield return TokenFrame.OfId("b", 5, 42);
        yield return TokenFrame.OfId("b", 6, -1);
        yield return TokenFrame.OfVector("a", 18, new[] { 0.5f }, position: 0);
        yield return TokenFrame.OfVector("a", 19, ReadOnlyMemory<float>.Empty, position: long.MaxValue);
        yield return TokenFrame.OfId("b", 20, 7, position: 12345);
        yield return new ErrorFrame("a", 21, 10, "duplicate") { Position = 4 };
        yield return new ErrorFrame("a", 22, 11, "") { Position = 0 };
        yield return new ErrorFrame("a", 23, 11, "ahead") { Position = long.MaxValue };
        yield return new SnapshotRequestFrame("a", 8);
        yield return new RestoreFrame("a", 9, new byte[] { 1, 2, 3, 0, 255 });
        yield return new RestoreFrame("a", 10, ReadOnlyMemory<byte>.Empty);
        yield return ReplayFrame.OfVectors("r", 11, 3, 2, new[] { 1f, 2f, 3f, 4f, 5f, 6f });
        yield return ReplayFrame.OfVectors("r", 12, 2, 1, new[] { 1f, 2f }) with { H0 = new[] { 0.5f, 0.25f }, C0 = new[] { -0.5f } };
        yield return ReplayFrame.OfVectors("r", 13, 0, 4, ReadOnlyMemory<float>.Empty);
        yield return ReplayFrame.OfIds("r", 14, new[] { 0, 63, -7, int.MaxValue });
        yield return ReplayFrame.OfIds("r", 15, new[] { 5 }) with { H0 = new[] { 1f } };
        yield return new ResetFrame("a", 16);
        yield return new CloseFrame("a", 17);
        yield return new OutputFrame("a", 2, 0, new[] { 0.1f, 0.2f });
        yield return new OutputFrame("a", 3, long.MaxValue, Odd);
        yield return new SnapshotReplyFrame("a", 8, new byte[] { 82, 78, 78, 83 });
        yield return new ReplayOutputsFrame("r", 11, 0, 3, 2, new[] { 1f, 2f, 3f, 4f, 5f, 6f });
        yield return new ReplayOutputsFrame("r", 11, 100, 0, 5, ReadOnlyMemory<float>.Empty);
        yield return new AckFrame("a", 1, FrameType.Open);
        yield return new AckFrame("a", 9, FrameType.Restore);
        yield return new AckFrame("a", 16, FrameType.Reset);
        yield return new AckFrame("a", 17, FrameType.Close);
        yield return new GenerateFrame("g", 30, 200) { PromptIds = new[] { 5, 0, 63 } };
        yield return new GenerateFrame("g", 31, 1)
        {
            PromptIds = ReadOnlyMemory<int>.Empty, Random = true, Seed = long.MinValue, Temperature = 0.8, TopK = 40, TopP = 0.95,
            StopIds = new[] { 10, -1 }, ReportTop = 64,
        };
        yield return new GenerateFrame("g", 32, int.MaxValue) { PromptKind = TokenKind.Vectors, PromptWidth = 2, PromptInputs = new[] { 1f, 2f, 3f, 4f }, Temperature = double.NaN, TopP = -0.0 };
        yield return new CancelGenerationFrame("g", 30);
        yield return new GenerationStepFrame("g", 30, 0, 4) { TokenId = 7, Probability = 0.25 };
        yield return new GenerationStepFrame("g", 31, int.MaxValue, long.MaxValue)
        {
            TokenId = -1, Probability = 1, Top = [new(7, 0.5), new(3, 0.25), new(0, 0)],
        };
        yield return new GenerationStepFrame("g", 32, 3, 9) { Kind = TokenKind.Vectors, Output = Odd };
        yield return new GenerationEndFrame("g", 30, GenerationEndReason.StopId, 0, 0);
        yield return new GenerationEndFrame("g", 31, GenerationEndReason.MaxSteps, 1, 7);
        yield return new GenerationEndFrame("g", 32, GenerationEndReason.Cancelled, int.MaxValue, long.MaxValue);
        yield return new GenerationEndFrame("g", 33, GenerationEndReason.Interrupted, 2, 12);
    }

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Named())
        {
            data.Add(name);
        }

        return data;
    }

    public static IEnumerable<(string Name, Frame Frame)> Named() => All().Select((f, i) => ($"{i:00} {f.Type}", f));

    public static Frame ByName(string name) => Named().Single(n => n.Name == name).Frame;

    /// <summary>A random valid frame of a random type.</summary>
    public static Frame Random(Random random)
    {
        string Session() => random.Next(4) == 0
            ? new string((char)('a' + random.Next(26)), 1 + random.Next(128))
            : "s" + random.Next(1000);
        float[] Floats(int n) => Enumerable.Range(0, n).Select(_ => BitConverter.Int32BitsToSingle(random.Next() * (random.Next(2) == 0 ? 1 : -1))).ToArray();
        var sequence = (ulong)random.NextInt64();
        var steps = random.Next(5);
        var width = 1 + random.Next(6);
        return random.Next(22) switch
        {
            0 => new HelloFrame((ushort)random.Next(65536)),
            1 => new WelcomeFrame((ushort)random.Next(65536), Session(), (TokenKind)random.Next(2), random.Next(), random.Next(),
                new ProtocolLimits { MaxFrameBytes = 1024 + random.Next(1 << 20), MaxSessionsPerConnection = 1 + random.Next(10_000), MaxTokensInFlightPerSession = 1 + random.Next(1000), IdleTimeout = TimeSpan.FromMilliseconds(random.Next()) }),
            2 => new PingFrame((ulong)random.NextInt64()),
            3 => new PongFrame((ulong)random.NextInt64()),
            4 => RandomError(random, random.Next(3) == 0 ? "" : Session(), sequence),
            5 => new OpenFrame(Session(), sequence, random.Next(2) == 0 ? "" : "model", Floats(random.Next(9)), Floats(random.Next(9))),
            6 => (random.Next(2) == 0 ? TokenFrame.OfVector(Session(), sequence, Floats(random.Next(40))) : TokenFrame.OfId(Session(), sequence, random.Next() - (1 << 30)))
                with { Position = random.Next(2) == 0 ? null : random.NextInt64(long.MaxValue) },
            7 => new SnapshotRequestFrame(Session(), sequence),
            8 => new RestoreFrame(Session(), sequence, Enumerable.Range(0, random.Next(64)).Select(_ => (byte)random.Next(256)).ToArray()),
            9 => (random.Next(2) == 0
                ? ReplayFrame.OfVectors(Session(), sequence, steps, width, Floats(steps * width))
                : ReplayFrame.OfIds(Session(), sequence, Enumerable.Range(0, steps).Select(_ => random.Next()).ToArray()))
                with { H0 = Floats(random.Next(5)), C0 = Floats(random.Next(5)) },
            10 => new ResetFrame(Session(), sequence),
            11 => new CloseFrame(Session(), sequence),
            12 => new OutputFrame(Session(), sequence, random.NextInt64(), Floats(random.Next(40))),
            13 => new SnapshotReplyFrame(Session(), sequence, Enumerable.Range(0, random.Next(64)).Select(_ => (byte)random.Next(256)).ToArray()),
            14 => new ReplayOutputsFrame(Session(), sequence, random.NextInt64(), steps, width, Floats(steps * width)),
            15 => new StatusRequestFrame((ulong)random.NextInt64()),
            16 => RandomStatus(random),
            17 => new GenerateFrame(Session(), sequence, random.Next()) with
            {
                PromptIds = Enumerable.Range(0, steps).Select(_ => random.Next()).ToArray(), Random = random.Next(2) == 0, Seed = random.NextInt64(),
                Temperature = random.NextDouble() * 2, TopK = random.Next(100), TopP = random.NextDouble(), ReportTop = random.Next(65),
                StopIds = Enumerable.Range(0, random.Next(4)).Select(_ => random.Next()).ToArray(),
            },
            18 => new CancelGenerationFrame(Session(), sequence),
            19 => random.Next(2) == 0
                ? new GenerationStepFrame(Session(), sequence, random.Next(), random.NextInt64()) { Kind = TokenKind.Vectors, Output = Floats(random.Next(9)) }
                : new GenerationStepFrame(Session(), sequence, random.Next(), random.NextInt64())
                {
                    TokenId = random.Next(), Probability = random.NextDouble(),
                    Top = Enumerable.Range(0, random.Next(5)).Select(_ => new Streaming.Client.TokenProbability(random.Next(), random.NextDouble())).ToArray(),
                },
            20 => new GenerationEndFrame(Session(), sequence, (GenerationEndReason)random.Next(4), random.Next(), random.NextInt64()),
            _ => new AckFrame(Session(), sequence, new[] { FrameType.Open, FrameType.Restore, FrameType.Reset, FrameType.Close }[random.Next(4)]),
        };
    }

    /// <summary>A Status with random fields and up to eight kernels of every verdict; errors include 0 and infinity.</summary>
    private static StatusFrame RandomStatus(Random random)
    {
        var kernels = Enumerable.Range(0, random.Next(9)).Select(_ => new KernelStatus(
            random.Next(4) == 0 ? null : random.Next(short.MaxValue + 1),
            new[] { "step", "bulk", "head", "" }[random.Next(4)],
            "path-" + random.Next(100),
            random.Next(5) switch { 0 => 0, 1 => double.PositiveInfinity, _ => random.NextDouble() * Math.Pow(10, -random.Next(12)) },
            (KernelVerdict)random.Next(3))).ToArray();
        return new StatusFrame((ulong)random.NextInt64(), random.Next(2) == 0, "backend-" + random.Next(10), "cpu " + random.Next(1000),
            TimeSpan.FromMilliseconds(random.Next()), random.NextDouble(), kernels);
    }

    /// <summary>An Error of a random code; DuplicateToken, PositionAhead and SessionUnavailable (often drawn) carry a position, a DuplicateToken sometimes an output.</summary>
    private static ErrorFrame RandomError(Random random, string session, ulong sequence)
    {
        var code = random.Next(4) == 0 ? new ushort[] { 10, 11, 14 }[random.Next(3)] : (ushort)random.Next(65536);
        var error = new ErrorFrame(session, sequence, code, new string('m', random.Next(300)));
        error = ErrorFrame.CarriesPosition(code) ? error with { Position = random.NextInt64(long.MaxValue) } : error;
        return code == 10 && random.Next(2) == 0
            ? error with { Output = Enumerable.Range(0, random.Next(1, 20)).Select(_ => random.NextSingle()).ToArray() }
            : error;
    }
}

using Streaming.Client.Protocol;

namespace Streaming.Fuzz.Seeds;

/// <summary>Valid frames of every type, small, for the frames target's seed corpus.</summary>
internal static class SeedFrames
{
    public static IEnumerable<Frame> Every()
    {
        yield return HelloFrame.Current;
        yield return new WelcomeFrame(1, "char-lstm", TokenKind.Ids, 64, 64, ProtocolLimits.Default);
        yield return new PingFrame(7);
        yield return new PongFrame(7);
        yield return new ErrorFrame("a", 3, 11, "position ahead") { Position = 2 };
        yield return new StatusRequestFrame(9);
        yield return new StatusFrame(9, true, "managed", "x86-64 (avx2)", TimeSpan.FromMilliseconds(12), 1e-5,
            [new KernelStatus(0, "step", "vector256", 2e-7, KernelVerdict.Chosen), new KernelStatus(null, "head", "scalar", 0, KernelVerdict.Passed)]);
        yield return new OpenFrame("a", 1, "char-lstm", new[] { 0.5f, -0.5f }, new[] { 0.25f });
        yield return TokenFrame.OfVector("a", 2, new[] { 1f, -2f, 0.5f }, position: 0);
        yield return TokenFrame.OfId("b", 3, 42);
        yield return new SnapshotRequestFrame("a", 4);
        yield return new RestoreFrame("a", 5, "RNNSNAP1"u8.ToArray());
        yield return ReplayFrame.OfVectors("r", 6, 2, 2, new[] { 1f, 2f, 3f, 4f }) with { H0 = new[] { 0.5f } };
        yield return ReplayFrame.OfIds("r", 7, new[] { 3, 17 });
        yield return new ResetFrame("a", 8);
        yield return new CloseFrame("a", 9);
        yield return new OutputFrame("a", 2, 1, new[] { 0.1f, 0.2f });
        yield return new SnapshotReplyFrame("a", 4, "RNNSNAP1"u8.ToArray());
        yield return new ReplayOutputsFrame("r", 6, 2, 2, 1, new[] { 0.5f, 0.25f });
        yield return new AckFrame("a", 1, FrameType.Open);
    }

    /// <summary>What a client sends in a short session: handshake, open, tokens, a snapshot, a close.</summary>
    public static IEnumerable<Frame> Conversation()
    {
        yield return HelloFrame.Current;
        yield return new OpenFrame("s", 1);
        yield return TokenFrame.OfId("s", 2, 5);
        yield return TokenFrame.OfId("s", 3, 6, position: 1);
        yield return new SnapshotRequestFrame("s", 4);
        yield return new CloseFrame("s", 5);
    }
}

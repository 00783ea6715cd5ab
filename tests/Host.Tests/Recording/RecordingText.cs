using Streaming.Host.Recording;

namespace Host.Tests.Recording;

/// <summary>Reads recordings from strings.</summary>
internal static class RecordingText
{
    public const string Header = "{\"format\":\"rnn-recording/2\",\"model\":\"models/lstm.json\",\"tolerance\":1e-4}";

    /// <summary>The header of the first version of the format, which has no generate.</summary>
    public const string Header1 = "{\"format\":\"rnn-recording/1\",\"model\":\"models/lstm.json\",\"tolerance\":1e-4}";

    public static RecordingReader Reader(string text) => new(new StringReader(text), "rec.jsonl", "/data/recordings");

    public static IReadOnlyList<RecordedOperation> Operations(params string[] lines)
    {
        using var reader = Reader(string.Join("\n", lines.Prepend(Header)));
        return reader.ReadToEnd();
    }

    public static RecordedOperation Single(string line) => Assert.Single(Operations(line));

    public static int[] Bits(ReadOnlyMemory<float> values) => values.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
}

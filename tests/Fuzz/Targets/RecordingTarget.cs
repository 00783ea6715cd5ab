using System.Text;
using Streaming.Host.Recording;

namespace Streaming.Fuzz.Targets;

/// <summary>
/// A recording's bytes, read as <see cref="RecordingReader.Open"/> reads a file, through the header and every
/// operation (<see cref="RecordingReader.ReadToEnd"/>). Contract: it throws only <see cref="RecordingFormatException"/>.
/// </summary>
internal sealed class RecordingTarget : FuzzTarget
{
    private static readonly string BaseDirectory = Path.Combine(Path.GetTempPath(), "fuzz-recordings");

    public override string Name => "recording";

    public override string Description => "RecordingReader on a recording file's bytes";

    public override IReadOnlyList<(string Assembly, string TypePrefixes)> Instrumented { get; } =
        [Instrument(typeof(RecordingReader), typeof(RecordingReader).Namespace!)];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds(string repositoryRoot)
    {
        // Each shipped recording's first lines: the header and its first operations, up to about 1 KB.
        foreach (var path in Directory.GetFiles(Path.Combine(repositoryRoot, "tests", "recordings"), "*.jsonl").Order(StringComparer.Ordinal))
        {
            var text = new StringBuilder();
            foreach (var line in File.ReadLines(path))
            {
                if (text.Length > 0 && text.Length + line.Length > 1024)
                {
                    break;
                }

                text.Append(line).Append('\n');
            }

            yield return (Path.GetFileName(path), Encoding.UTF8.GetBytes(text.ToString()));
        }

        // One line of each operation and field the first lines above may not reach.
        yield return ("every-op.jsonl", Encoding.UTF8.GetBytes(string.Join('\n',
            "{\"format\":\"rnn-recording/1\",\"model\":\"models/gru.json\",\"tolerance\":0.0001}",
            "{\"session\":\"a\",\"op\":\"open\",\"h0\":[[0.5,-0.5]],\"c0\":null}",
            "{\"session\":\"a\",\"op\":\"token\",\"input\":[1,2],\"expect\":[0.25,0.5]}",
            "{\"session\":\"b\",\"op\":\"token\",\"token\":3,\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"replay\",\"inputs\":[[1,2],[3,4]],\"expect\":[[0,1],[1,0]]}",
            "{\"session\":\"c\",\"op\":\"replay\",\"tokens\":[1,2,3],\"h0\":[[0]],\"c0\":[[1]]}",
            "",
            "{\"session\":\"a\",\"op\":\"snapshot\",\"expect_h\":[[0.5,0.25]],\"expect_c\":[]}",
            "{\"session\":\"a\",\"op\":\"token\",\"input\":[\"NaN\",\"Infinity\"],\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"reset\"}",
            "{\"session\":\"a\",\"op\":\"close\",\"expect_error\":false}",
            "")));
    }

    protected override bool IsDocumented(Exception exception) => exception is RecordingFormatException;

    protected override void Run(byte[] input) => Attempt(() =>
    {
        using var reader = new RecordingReader(
            new StreamReader(new MemoryStream(input), Encoding.UTF8, detectEncodingFromByteOrderMarks: true), "fuzz.jsonl", BaseDirectory);
        reader.ReadToEnd();
    });
}

using Streaming.Client.Protocol;
using Streaming.Host.Recording;

namespace Host.Tests.Recording;

public sealed class RecordingWriterTests
{
    private static readonly FloatMatrix State = FloatMatrix.FromRows([0.5f, -0.25f], [1e-7f, 3f]);

    private static IEnumerable<RecordedOperation> EveryKind()
    {
        yield return new RecordedOpen(0, "a");
        yield return new RecordedOpen(0, "b", State, State);
        yield return RecordedToken.OfVector(0, "a", new[] { 0.1f, -0f, float.Epsilon, float.MaxValue }) with { Expect = new[] { 1f / 3 } };
        yield return RecordedToken.OfVector(0, "a", new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }) with { ExpectError = true };
        yield return RecordedToken.OfVector(0, "a", ReadOnlyMemory<float>.Empty);
        yield return RecordedToken.OfId(0, "b", 7);
        yield return RecordedReplay.OfVectors(0, "b", FloatMatrix.FromRows([1f, 2f], [3f, 4f])) with { H0 = State, Expect = FloatMatrix.FromRows([9f], [8f]) };
        yield return RecordedReplay.OfIds(0, "b", new[] { 1, 0, int.MaxValue, -1 }) with { C0 = State };
        yield return new RecordedSnapshot(0, "a", State, State);
        yield return new RecordedSnapshot(0, "a") { ExpectError = true };
        yield return new RecordedReset(0, "sessão ✓");
        yield return new RecordedClose(0, "a");
        yield return new RecordedClose(0, "a") { ExpectError = true };
    }

    private static (RecordingReader Reader, string Text) WriteAndOpen(RecordingHeader header, IEnumerable<RecordedOperation> operations)
    {
        var text = new StringWriter();
        using (var writer = new RecordingWriter(text, header))
        {
            foreach (var operation in operations)
            {
                writer.Write(operation);
            }
        }

        return (RecordingText.Reader(text.ToString()), text.ToString());
    }

    private static void AssertSame(RecordedOperation expected, RecordedOperation actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        Assert.Equal((expected.Session, expected.ExpectError, expected.Op), (actual.Session, actual.ExpectError, actual.Op));
        switch (expected, actual)
        {
            case (RecordedOpen e, RecordedOpen a):
                AssertSame(e.H0, a.H0);
                AssertSame(e.C0, a.C0);
                break;
            case (RecordedToken e, RecordedToken a):
                Assert.Equal((e.Kind, e.Id), (a.Kind, a.Id));
                Assert.Equal(RecordingText.Bits(e.Input), RecordingText.Bits(a.Input));
                Assert.Equal(e.Expect is null, a.Expect is null);
                Assert.Equal(RecordingText.Bits(e.Expect ?? default), RecordingText.Bits(a.Expect ?? default));
                break;
            case (RecordedReplay e, RecordedReplay a):
                Assert.Equal((e.Kind, e.Steps), (a.Kind, a.Steps));
                AssertSame(e.Inputs, a.Inputs);
                Assert.Equal(e.Ids.ToArray(), a.Ids.ToArray());
                AssertSame(e.H0, a.H0);
                AssertSame(e.C0, a.C0);
                AssertSame(e.Expect, a.Expect);
                break;
            case (RecordedSnapshot e, RecordedSnapshot a):
                AssertSame(e.ExpectH, a.ExpectH);
                AssertSame(e.ExpectC, a.ExpectC);
                break;
        }
    }

    private static void AssertSame(FloatMatrix? expected, FloatMatrix? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is not null)
        {
            Assert.Equal((expected.Rows, expected.Columns), (actual!.Rows, actual.Columns));
            Assert.Equal(RecordingText.Bits(expected.Values), RecordingText.Bits(actual.Values));
        }
    }

    [Fact]
    public void Every_operation_reads_back_as_written_with_its_line_number()
    {
        var written = EveryKind().ToList();
        var (reader, _) = WriteAndOpen(new RecordingHeader("../models/m.json", 2.5e-5), written);
        using (reader)
        {
            Assert.Equal(new RecordingHeader("../models/m.json", 2.5e-5), reader.Header);
            var read = reader.ReadToEnd();
            Assert.Equal(written.Count, read.Count);
            for (var i = 0; i < written.Count; i++)
            {
                AssertSame(written[i], read[i]);
                Assert.Equal(i + 2, read[i].Line);
            }
        }
    }

    [Fact]
    public void Random_finite_floats_read_back_bit_for_bit()
    {
        var random = new Random(11);
        float NextFinite()
        {
            // JSON spells every NaN "NaN", so only finite values can keep every bit.
            var value = BitConverter.Int32BitsToSingle(random.Next() * (random.Next(2) == 0 ? 1 : -1));
            return float.IsFinite(value) ? value : NextFinite();
        }

        var operations = Enumerable.Range(0, 200).Select(i =>
        {
            var values = Enumerable.Range(0, 16).Select(_ => NextFinite()).ToArray();
            return (RecordedOperation)(RecordedToken.OfVector(0, "s" + (i % 7), values) with { Expect = values.Reverse().ToArray() });
        }).ToList();
        var (reader, _) = WriteAndOpen(new RecordingHeader("m.json"), operations);
        using (reader)
        {
            var read = reader.ReadToEnd();
            for (var i = 0; i < operations.Count; i++)
            {
                AssertSame(operations[i], read[i]);
            }
        }
    }

    [Fact]
    public void The_lines_are_the_documented_json()
    {
        var (reader, text) = WriteAndOpen(new RecordingHeader("m.json"), [
            RecordedToken.OfVector(0, "a", new[] { 0.5f, float.NaN }) with { ExpectError = true },
            RecordedReplay.OfIds(0, "ü", new[] { 1, 2 }) with { Expect = FloatMatrix.FromRows([1f], [0.1f]) },
        ]);
        reader.Dispose();
        Assert.Equal(
            "{\"format\":\"rnn-recording/2\",\"model\":\"m.json\",\"tolerance\":0.0001}\n" +
            "{\"session\":\"a\",\"op\":\"token\",\"input\":[0.5,\"NaN\"],\"expect_error\":true}\n" +
            "{\"session\":\"ü\",\"op\":\"replay\",\"tokens\":[1,2],\"expect\":[[1],[0.1]]}\n",
            text);
    }

    [Fact]
    public void Operations_the_reader_would_refuse_are_not_written()
    {
        var text = new StringWriter();
        using var writer = new RecordingWriter(text, new RecordingHeader("m.json"));
        Assert.Throws<ArgumentException>(() => writer.Write(new RecordedReset(0, "")));
        Assert.Throws<ArgumentException>(() => writer.Write(new RecordedReset(0, new string('x', 129))));
        Assert.Throws<ArgumentException>(() => writer.Write(RecordedToken.OfId(0, "a", 1) with { Expect = new[] { 1f }, ExpectError = true }));
        Assert.Throws<ArgumentException>(() => writer.Write(new RecordedSnapshot(0, "a", ExpectC: State) { ExpectError = true }));
        Assert.Equal(1, text.ToString().Count(c => c == '\n'));
    }

    [Fact]
    public void An_invalid_header_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new RecordingWriter(new StringWriter(), new RecordingHeader("")));
        Assert.Throws<ArgumentException>(() => new RecordingWriter(new StringWriter(), new RecordingHeader("m", -1)));
        Assert.Throws<ArgumentException>(() => new RecordingWriter(new StringWriter(), new RecordingHeader("m", double.NaN)));
    }

    [Fact]
    public async Task Concurrent_writers_never_interleave_lines()
    {
        var text = new StringWriter();
        using (var writer = new RecordingWriter(text, new RecordingHeader("m.json")))
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (var i = 0; i < 250; i++)
                {
                    writer.Write(RecordedToken.OfVector(0, $"t{t}", new[] { i, 1f / (i + 1) }) with { Expect = new[] { (float)i } });
                }
            })));
        }

        using var reader = RecordingText.Reader(text.ToString());
        var read = reader.ReadToEnd().Cast<RecordedToken>().ToList();
        Assert.Equal(1000, read.Count);
        foreach (var session in read.GroupBy(op => op.Session))
        {
            // Each thread's lines are whole and in its own order.
            Assert.Equal(Enumerable.Range(0, 250).Select(i => (float)i), session.Select(op => op.Input.Span[0]));
        }
    }

    [Fact]
    public void Create_writes_a_file_that_open_reads()
    {
        var path = Path.Combine(Path.GetTempPath(), $"recording-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var writer = RecordingWriter.Create(path, new RecordingHeader("m.json", 1e-3)))
            {
                writer.Write(new RecordedOpen(0, "a"));
                writer.Write(RecordedToken.OfId(0, "a", 3));
            }

            Assert.NotEqual(0xEF, File.ReadAllBytes(path)[0]);
            using var reader = RecordingReader.Open(path);
            Assert.Equal(1e-3, reader.Header.Tolerance);
            Assert.Equal(2, reader.ReadToEnd().Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_matrix_knows_its_shape_and_rows()
    {
        Assert.Equal(new[] { 1e-7f, 3f }, State.Row(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => State.Row(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FloatMatrix(2, 2, new float[3]));
        Assert.Throws<ArgumentException>(() => FloatMatrix.FromRows([1f], [1f, 2f]));
        Assert.Equal((0, 0), (FloatMatrix.FromRows().Rows, FloatMatrix.FromRows().Columns));
    }
}

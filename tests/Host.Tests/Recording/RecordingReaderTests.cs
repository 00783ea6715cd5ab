using Streaming.Client.Protocol;
using Streaming.Host.Recording;

namespace Host.Tests.Recording;

public sealed class RecordingReaderTests
{
    [Fact]
    public void The_header_gives_the_model_path_resolved_against_the_recording_and_the_tolerance()
    {
        using var reader = RecordingText.Reader(RecordingText.Header);
        Assert.Equal(new RecordingHeader("models/lstm.json", 1e-4), reader.Header);
        Assert.Equal(Path.GetFullPath("/data/recordings/models/lstm.json"), reader.ModelManifestPath);
        Assert.Null(reader.Read());
    }

    [Fact]
    public void A_header_without_tolerance_takes_the_default()
    {
        using var reader = RecordingText.Reader("{\"format\":\"rnn-recording/2\",\"model\":\"m.json\"}");
        Assert.Equal(RecordingHeader.DefaultTolerance, reader.Header.Tolerance);
        Assert.Equal(2, reader.Header.Version);
    }

    [Fact]
    public void A_version_1_recording_still_reads_every_operation_and_its_header_says_version_1()
    {
        using var reader = RecordingText.Reader(string.Join("\n",
            RecordingText.Header1,
            "{\"session\":\"a\",\"op\":\"open\"}",
            "{\"session\":\"a\",\"op\":\"token\",\"input\":[1,2],\"expect\":[0.5]}",
            "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":[1],\"expect\":[[0.5]]}",
            "{\"session\":\"a\",\"op\":\"snapshot\",\"expect_h\":[[1]]}",
            "{\"session\":\"a\",\"op\":\"reset\"}",
            "{\"session\":\"a\",\"op\":\"close\"}"));

        Assert.Equal(new RecordingHeader("models/lstm.json", 1e-4) { Version = 1 }, reader.Header);
        Assert.Equal(RecordingHeader.Format1, reader.Header.FormatName);
        Assert.Equal(new[] { "open", "token", "replay", "snapshot", "reset", "close" }, reader.ReadToEnd().Select(op => op.Op));
    }

    [Fact]
    public void A_generate_in_a_version_1_recording_is_refused_naming_the_op_and_the_header_it_needs()
    {
        using var reader = RecordingText.Reader(RecordingText.Header1 + "\n{\"session\":\"a\",\"op\":\"generate\",\"max_steps\":3}");

        var error = Assert.Throws<RecordingFormatException>(() => reader.Read());

        Assert.Equal((2, "op"), (error.LineNumber, error.Field));
        Assert.Contains("'op' is 'generate', which format rnn-recording/1 does not have", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_open_reads_its_optional_states_as_matrices()
    {
        var open = Assert.IsType<RecordedOpen>(RecordingText.Single("{\"session\":\"a\",\"op\":\"open\",\"h0\":[[1,2],[3,4]],\"c0\":[[0.5,-0.5],[0,1e-7]]}"));
        Assert.Equal(2, open.Line);
        Assert.Equal("a", open.Session);
        Assert.False(open.ExpectError);
        Assert.Equal((2, 2), (open.H0!.Rows, open.H0.Columns));
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, open.H0.Values.ToArray());
        Assert.Equal(new[] { 0.5f, -0.5f, 0f, 1e-7f }, open.C0!.Values.ToArray());
        var bare = Assert.IsType<RecordedOpen>(RecordingText.Single("{\"session\":\"a\",\"op\":\"open\"}"));
        Assert.Null(bare.H0);
        Assert.Null(bare.C0);
    }

    [Fact]
    public void A_token_reads_a_vector_or_an_id_and_an_optional_expectation()
    {
        var ops = RecordingText.Operations(
            "{\"session\":\"a\",\"op\":\"token\",\"input\":[0.25,-1,3e-3],\"expect\":[0.1,0.2]}",
            "{\"session\":\"a\",\"op\":\"token\",\"token\":7}",
            "{\"session\":\"a\",\"op\":\"token\",\"token\":-3,\"expect_error\":true}");
        var vector = Assert.IsType<RecordedToken>(ops[0]);
        Assert.Equal(TokenKind.Vectors, vector.Kind);
        Assert.Equal(new[] { 0.25f, -1f, 3e-3f }, vector.Input.ToArray());
        Assert.Equal(new[] { 0.1f, 0.2f }, vector.Expect!.Value.ToArray());
        var id = Assert.IsType<RecordedToken>(ops[1]);
        Assert.Equal((TokenKind.Ids, 7, 3), (id.Kind, id.Id, id.Line));
        Assert.Null(id.Expect);
        var refused = Assert.IsType<RecordedToken>(ops[2]);
        Assert.True(refused.ExpectError);
        Assert.Equal(-3, refused.Id);
    }

    [Fact]
    public void A_replay_reads_rows_or_ids_with_optional_states_and_expectations()
    {
        var ops = RecordingText.Operations(
            "{\"session\":\"r\",\"op\":\"replay\",\"inputs\":[[1,2],[3,4],[5,6]],\"h0\":[[0.5]],\"c0\":[[0.25]],\"expect\":[[1],[2],[3]]}",
            "{\"session\":\"r\",\"op\":\"replay\",\"tokens\":[4,0,9]}");
        var vectors = Assert.IsType<RecordedReplay>(ops[0]);
        Assert.Equal((TokenKind.Vectors, 3, 2), (vectors.Kind, vectors.Steps, vectors.Inputs!.Columns));
        Assert.Equal(new[] { 3f, 4f }, vectors.Inputs.Row(1).ToArray());
        Assert.Equal(new[] { 0.5f }, vectors.H0!.Values.ToArray());
        Assert.Equal(new[] { 0.25f }, vectors.C0!.Values.ToArray());
        Assert.Equal(new[] { 1f, 2f, 3f }, vectors.Expect!.Values.ToArray());
        var ids = Assert.IsType<RecordedReplay>(ops[1]);
        Assert.Equal((TokenKind.Ids, 3), (ids.Kind, ids.Steps));
        Assert.Equal(new[] { 4, 0, 9 }, ids.Ids.ToArray());
        Assert.Null(ids.Inputs);
        Assert.Null(ids.H0);
        Assert.Null(ids.Expect);
    }

    [Fact]
    public void A_snapshot_reads_its_optional_expectations()
    {
        var snapshot = Assert.IsType<RecordedSnapshot>(RecordingText.Single("{\"session\":\"a\",\"op\":\"snapshot\",\"expect_h\":[[1,2]],\"expect_c\":[[3,4]]}"));
        Assert.Equal(new[] { 1f, 2f }, snapshot.ExpectH!.Values.ToArray());
        Assert.Equal(new[] { 3f, 4f }, snapshot.ExpectC!.Values.ToArray());
        var bare = Assert.IsType<RecordedSnapshot>(RecordingText.Single("{\"session\":\"a\",\"op\":\"snapshot\"}"));
        Assert.Null(bare.ExpectH);
        Assert.Null(bare.ExpectC);
    }

    [Fact]
    public void Reset_and_close_take_only_the_session_and_expect_error()
    {
        var ops = RecordingText.Operations(
            "{\"session\":\"a\",\"op\":\"reset\"}",
            "{\"session\":\"a\",\"op\":\"close\",\"expect_error\":false}",
            "{\"op\":\"close\",\"session\":\"zz\",\"expect_error\":true}");
        Assert.Equal(new RecordedReset(2, "a"), ops[0]);
        Assert.Equal(new RecordedClose(3, "a"), ops[1]);
        Assert.Equal(new RecordedClose(4, "zz") { ExpectError = true }, ops[2]);
    }

    [Fact]
    public void Any_operation_may_expect_an_error()
    {
        var ops = RecordingText.Operations(
            "{\"session\":\"a\",\"op\":\"open\",\"h0\":[[1]],\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"token\",\"input\":[1],\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":[1],\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"snapshot\",\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"reset\",\"expect_error\":true}",
            "{\"session\":\"a\",\"op\":\"close\",\"expect_error\":true}");
        Assert.All(ops, op => Assert.True(op.ExpectError));
        Assert.Equal(new[] { "open", "token", "replay", "snapshot", "reset", "close" }, ops.Select(op => op.Op));
    }

    [Fact]
    public void Non_finite_values_are_spelled_as_strings()
    {
        var token = (RecordedToken)RecordingText.Single("{\"session\":\"a\",\"op\":\"token\",\"input\":[\"NaN\",\"Infinity\",\"-Infinity\",1],\"expect_error\":true}");
        var input = token.Input.ToArray();
        Assert.True(float.IsNaN(input[0]));
        Assert.Equal(new[] { float.PositiveInfinity, float.NegativeInfinity, 1f }, input[1..]);
    }

    [Fact]
    public void Numbers_read_as_the_nearest_float_and_a_null_optional_field_is_absent()
    {
        var token = (RecordedToken)RecordingText.Single("{\"session\":\"a\",\"op\":\"token\",\"input\":[0.1,16777217,-0,1e-46,3.4028235e38],\"expect\":null}");
        Assert.Equal(new[] { 0.1f, 16777216f, -0f, 0f, float.MaxValue }.Select(BitConverter.SingleToInt32Bits), RecordingText.Bits(token.Input));
        Assert.Null(token.Expect);
    }

    [Fact]
    public void Blank_lines_are_skipped_and_line_numbers_count_them()
    {
        using var reader = RecordingText.Reader("\n" + RecordingText.Header + "\n\n   \r\n{\"session\":\"a\",\"op\":\"reset\"}\n\n{\"session\":\"a\",\"op\":\"close\"}\n\n");
        Assert.Equal(5, reader.Read()!.Line);
        Assert.Equal(7, reader.Read()!.Line);
        Assert.Null(reader.Read());
        Assert.Null(reader.Read());
    }

    [Fact]
    public void Sessions_interleave_in_file_order_and_ids_may_be_any_unicode_up_to_128_bytes()
    {
        var long128 = string.Concat(Enumerable.Repeat("é", 64));
        var ops = RecordingText.Operations(
            "{\"session\":\"a\",\"op\":\"open\"}",
            "{\"session\":\"" + long128 + "\",\"op\":\"open\"}",
            "{\"session\":\"a\",\"op\":\"token\",\"token\":1}",
            "{\"session\":\"✓ b\",\"op\":\"open\"}");
        Assert.Equal(new[] { "a", long128, "a", "✓ b" }, ops.Select(op => op.Session));
        Assert.Equal(new[] { 2, 3, 4, 5 }, ops.Select(op => op.Line));
    }

    [Fact]
    public void Open_reads_a_file_relative_to_its_folder_and_names_it_in_errors()
    {
        var folder = Directory.CreateTempSubdirectory("recording-");
        try
        {
            var path = Path.Combine(folder.FullName, "r.jsonl");
            File.WriteAllText(path, "\uFEFF" + RecordingText.Header + "\n{\"session\":\"a\",\"op\":\"open\"}\n{\"session\":\"a\",\"op\":\"tok\"}\n");
            using var reader = RecordingReader.Open(path);
            Assert.Equal(Path.Combine(folder.FullName, "models", "lstm.json"), reader.ModelManifestPath);
            Assert.IsType<RecordedOpen>(reader.Read());
            var error = Assert.Throws<RecordingFormatException>(() => reader.Read());
            Assert.Equal(path, error.SourceName);
            Assert.StartsWith($"{path}: line 3: 'op' is 'tok'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

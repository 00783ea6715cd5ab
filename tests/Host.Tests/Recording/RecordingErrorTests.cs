using Streaming.Host.Recording;

namespace Host.Tests.Recording;

/// <summary>Every format error names the file, the line, the field, what was expected and what was found.</summary>
public sealed class RecordingErrorTests
{
    private const string Ok = "{\"session\":\"a\",\"op\":\"open\"}";

    public static TheoryData<string, string?, string> OperationErrors => new()
    {
        { "{\"session\":\"a\",\"op\":\"token\",\"input\":\"1,2\"}", "input", "'input' must be an array of numbers; found a string." },
        { "{\"session\":\"a\",\"op\":\"token\",\"input\":[1,true]}", "input", "'input'[1] must be a number; found true." },
        { "{\"session\":\"a\",\"op\":\"token\",\"input\":[1,\"nan\"]}", "input", "'input'[1] must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"); found a string." },
        { "{\"session\":\"a\",\"op\":\"token\",\"input\":[1e39]}", "input", "'input'[0] is 1e39, outside the range of a 32-bit float." },
        { "{\"session\":\"a\",\"op\":\"token\"}", "input", "a token needs either 'input' (a vector) or 'token' (an id); found neither." },
        { "{\"session\":\"a\",\"op\":\"token\",\"input\":[1],\"token\":2}", "input", "a token needs either 'input' (a vector) or 'token' (an id); found both." },
        { "{\"session\":\"a\",\"op\":\"token\",\"token\":1.5}", "token", "'token' must be an integer id from -2147483648 to 2147483647; found the number 1.5." },
        { "{\"session\":\"a\",\"op\":\"token\",\"token\":3000000000}", "token", "found the number 3000000000." },
        { "{\"session\":\"a\",\"op\":\"token\",\"token\":\"7\"}", "token", "'token' must be an integer id from -2147483648 to 2147483647; found a string." },
        { "{\"session\":\"a\",\"op\":\"token\",\"token\":1,\"expect\":{}}", "expect", "'expect' must be an array of numbers; found an object." },
        { "{\"session\":\"a\",\"op\":\"token\",\"token\":1,\"expect\":[1],\"expect_error\":true}", "expect", "'expect' cannot go with \"expect_error\": true" },
        { "{\"session\":\"a\",\"op\":\"token\",\"token\":1,\"expected\":[1]}", "expected", "unknown field 'expected' in a token; expected only session, op, input, token, expect, expect_error." },
        { "{\"session\":\"a\",\"op\":\"open\",\"h0\":[1,2]}", "h0", "'h0'[0] must be an array of numbers (a row); found the number 1." },
        { "{\"session\":\"a\",\"op\":\"open\",\"h0\":5}", "h0", "'h0' must be an array of rows (arrays of numbers); found the number 5." },
        { "{\"session\":\"a\",\"op\":\"open\",\"c0\":[[1,2],[3]]}", "c0", "'c0'[1] has 1 number(s) but 'c0'[0] has 2; every row must have the same length." },
        { "{\"session\":\"a\",\"op\":\"open\",\"c0\":[[1,2],[3,null]]}", "c0", "'c0'[1][1] must be a number; found null." },
        { "{\"session\":\"a\",\"op\":\"open\",\"input\":[1]}", "input", "unknown field 'input' in an open; expected only session, op, h0, c0, expect_error." },
        { "{\"session\":\"a\",\"op\":\"replay\"}", "inputs", "a replay needs either 'inputs' (rows of input vectors) or 'tokens' (an array of ids); found neither." },
        { "{\"session\":\"a\",\"op\":\"replay\",\"inputs\":[[1]],\"tokens\":[1]}", "inputs", "found both." },
        { "{\"session\":\"a\",\"op\":\"replay\",\"inputs\":[1,2]}", "inputs", "'inputs'[0] must be an array of numbers (a row); found the number 1." },
        { "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":[1,\"x\"]}", "tokens", "'tokens'[1] must be an integer id from -2147483648 to 2147483647; found a string." },
        { "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":3}", "tokens", "'tokens' must be an array of integer ids; found the number 3." },
        { "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":[1,2],\"expect\":[[1]]}", "expect", "'expect' has 1 row(s) but the replay has 2 step(s); expected one output row per step." },
        { "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":[1],\"expect\":[[1]],\"expect_error\":true}", "expect", "'expect' cannot go with \"expect_error\": true" },
        { "{\"session\":\"a\",\"op\":\"replay\",\"tokens\":[1],\"h1\":[[1]]}", "h1", "unknown field 'h1' in a replay" },
        { "{\"session\":\"a\",\"op\":\"snapshot\",\"expect_h\":[[1]],\"expect_error\":true}", "expect_h", "'expect_h' cannot go with \"expect_error\": true" },
        { "{\"session\":\"a\",\"op\":\"snapshot\",\"expect_c\":[[1],\"x\"]}", "expect_c", "'expect_c'[1] must be an array of numbers (a row); found a string." },
        { "{\"session\":\"a\",\"op\":\"snapshot\",\"expect\":[1]}", "expect", "unknown field 'expect' in a snapshot; expected only session, op, expect_h, expect_c, expect_error." },
        { "{\"session\":\"a\",\"op\":\"reset\",\"h0\":[[0]]}", "h0", "unknown field 'h0' in a reset; expected only session, op, expect_error." },
        { "{\"session\":\"a\",\"op\":\"close\",\"expect_error\":\"yes\"}", "expect_error", "'expect_error' must be true or false; found a string." },
        { "{\"session\":\"a\",\"op\":\"step\"}", "op", "'op' is 'step'; expected one of open, token, replay, snapshot, reset, close, generate." },
        { "{\"session\":\"a\"}", "op", "'op' is missing; expected one of open, token, replay, snapshot, reset, close, generate." },
        { "{\"session\":\"a\",\"op\":3}", "op", "'op' must be one of open, token, replay, snapshot, reset, close, generate; found the number 3." },
        { "{\"op\":\"open\"}", "session", "'session' is missing; expected a session id (a string of 1 to 128 UTF-8 bytes)." },
        { "{\"session\":7,\"op\":\"open\"}", "session", "'session' must be a session id (a string of 1 to 128 UTF-8 bytes); found the number 7." },
        { "{\"session\":\"\",\"op\":\"open\"}", "session", "'session' is 0 UTF-8 byte(s) long; expected 1 to 128." },
        { "{\"session\":\"" + new string('s', 129) + "\",\"op\":\"open\"}", "session", "'session' is 129 UTF-8 byte(s) long; expected 1 to 128." },
        { "{\"session\":\"a\",\"op\":\"open\",\"op\":\"close\"}", "op", "'op' appears twice; each field may appear once." },
        { "[1,2]", null, "the line is an array; expected a JSON object." },
        { "{\"session\":\"a\",\"op\":\"open\"", null, "not valid JSON (" },
        { "{\"session\":\"a\",\"op\":\"open\",}", null, "not valid JSON (" },
        { "// comment", null, "not valid JSON (" },
    };

    [Theory]
    [MemberData(nameof(OperationErrors))]
    public void An_invalid_operation_is_refused_naming_its_line_and_field(string line, string? field, string message)
    {
        using var reader = RecordingText.Reader(string.Join("\n", RecordingText.Header, Ok, "", Ok, line, Ok));
        reader.Read();
        reader.Read();
        var error = Assert.Throws<RecordingFormatException>(() => reader.Read());
        Assert.Equal(5, error.LineNumber);
        Assert.Equal(field, error.Field);
        Assert.Equal("rec.jsonl", error.SourceName);
        Assert.StartsWith("rec.jsonl: line 5: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, int, string?, string> HeaderErrors => new()
    {
        { "", 1, null, "the recording is empty; expected the header line {\"format\":\"rnn-recording/2\"" },
        { "\n\n", 2, null, "the recording is empty" },
        { "{\"format\":\"rnn-recording/3\",\"model\":\"m.json\"}", 1, "format", "'format' is \"rnn-recording/3\"; expected \"rnn-recording/2\" (or \"rnn-recording/1\", which has no generate)" },
        { "{\"format\":\"rnn-recording/0\",\"model\":\"m.json\"}", 1, "format", "'format' is \"rnn-recording/0\"; expected \"rnn-recording/2\"" },
        { "{\"model\":\"m.json\"}", 1, "format", "'format' is missing; expected \"rnn-recording/2\" (or \"rnn-recording/1\", which has no generate)." },
        { "{\"format\":\"rnn-recording/1\"}", 1, "model", "'model' is missing; expected the model manifest's path, relative to the recording." },
        { "{\"format\":\"rnn-recording/1\",\"model\":\"\"}", 1, "model", "'model' is empty" },
        { "{\"format\":\"rnn-recording/1\",\"model\":[\"m\"]}", 1, "model", "'model' must be the model manifest's path, relative to the recording; found an array." },
        { "{\"format\":\"rnn-recording/1\",\"model\":\"m\",\"tolerance\":\"1e-4\"}", 1, "tolerance", "'tolerance' must be a finite number; found a string." },
        { "{\"format\":\"rnn-recording/1\",\"model\":\"m\",\"tolerance\":-1}", 1, "tolerance", "'tolerance' is -1; expected 0 or more." },
        { "{\"format\":\"rnn-recording/1\",\"model\":\"m\",\"seed\":1}", 1, "seed", "unknown field 'seed' in the header; expected only format, model, tolerance." },
        { "\n{\"session\":\"a\",\"op\":\"open\"}", 2, "session", "unknown field 'session' in the header" },
        { "rnn-recording/1", 1, null, "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(HeaderErrors))]
    public void An_invalid_header_is_refused_naming_its_line_and_field(string text, int line, string? field, string message)
    {
        var error = Assert.Throws<RecordingFormatException>(() => RecordingText.Reader(text));
        Assert.Equal(line, error.LineNumber);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    // Found by fuzzing the recording reader (scripts/fuzz.sh recording; the NUL by reading the code, confirmed with the
    // harness): each input escaped RecordingReader as an ArgumentException (a NUL in the model path, from
    // Path.GetFullPath) or an InvalidOperationException (JSON escapes spelling an unpaired UTF-16 surrogate, from
    // System.Text.Json) instead of a RecordingFormatException.
    public static TheoryData<byte[], int, string?, string> UnreadableRecordings => new()
    {
        // afl-fuzz's input (recording campaign, 438 ms in), byte for byte.
        { Convert.FromHexString(
            "7b225c7564383030223a22726e6e2d7265636f7264696e672f31222c226d6f64656c223a226d6f64222c22746f6c6572616e6365223a302e30303031" +
            "7d0a7b2273657373696f6e223a2261222c226f70223a226f70656e222c226830223a5b5b5d5d2c226330223a6e756c6c7d0a7b2273657373696f6e22" +
            "3a2261222c226f70223a22746f6b656e222c22696e707574223a5b312c325d2c22657870656374223a5b302e32352c302e355d7d0a7b227365737369" +
            "6f6e223a2262222c226f70223a22746f6b656e222c22746f6b656e223a332c226578706563745f6572726f72223a747275657d0a7b2273657373696f" +
            "6e223a2261222c226f70223a227265706c6179222c22696e70757473223a5b5b312c325d2c5b332c345d5d2c22657870656374223a5b5b302c315d2c" +
            "5b312c305d5d7d0a7b2273657373696f6e223a2263222c226f70223a227265706c6179222c22746f6b656e73223a5b312c322c335d2c226830223a5b" +
            "5b305d5d2c226330223a5b5b315d5d7d0a0a7b2273657373696f6e223a2261222c226f70223a22736e617073686f74222c226578706563745f68223a" +
            "5b5b302e352c302e32355d5d2c226578706563745f80223a5b5d7d0a7b2273657373696f6e223a2261222c226f70223a22746f6b657d222c22696e70" +
            "7574223a5b224e614e222c22496e66696e697479225d2c226578706563745f6572726f72223a747275657d0a7b2273657373696f6e223a2261222c22" +
            "736e617073686f742274227d0a7b2273657373696f6e223a2261222c226f70223a22636c6f7365222c226578706563745f6572726f72223a66616c73" +
            "657d0a"), 1, null, "a field name is not valid Unicode" },
        { """{"format":"rnn-recording/1","model":"a\u0000"}"""u8.ToArray(), 1, "model", "'model' holds the character U+0000 at index 1, which no path may hold" },
        { """{"format":"rnn-recording/1","model":"\udc00"}"""u8.ToArray(), 1, "model", "'model' is \"\\udc00\", which is not valid Unicode" },
        { """{"format":"rnn-recording/1","model":"m","\ud800":1}"""u8.ToArray(), 1, null, "a field name is not valid Unicode" },
        { "{\"format\":\"rnn-recording/1\",\"model\":\"m\"}\n"u8.ToArray().Concat("""{"session":"\ud800","op":"open"}"""u8.ToArray()).ToArray(), 2, "session", "'session' is \"\\ud800\", which is not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(UnreadableRecordings))]
    public void A_recording_with_text_no_path_or_string_can_hold_is_refused_naming_its_line_and_field(byte[] recording, int line, string? field, string message)
    {
        var error = Assert.Throws<RecordingFormatException>(() =>
        {
            using var reader = new RecordingReader(new StreamReader(new MemoryStream(recording), System.Text.Encoding.UTF8), "rec.jsonl", "/data/recordings");
            reader.ReadToEnd();
        });

        Assert.Equal(line, error.LineNumber);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_float_spelled_as_a_string_that_is_not_valid_unicode_is_refused_as_not_a_number()
    {
        var error = Assert.Throws<RecordingFormatException>(() => RecordingText.Operations("""{"session":"a","op":"token","input":["\ud800"]}"""));

        Assert.Contains("'input'[0] must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"); found a string.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_brief_example_reads_as_written()
    {
        var lines = Enumerable.Repeat(Ok, 5).Append("{\"session\":\"a\",\"op\":\"token\",\"input\":\"x\"}").Prepend(RecordingText.Header);
        using var reader = RecordingText.Reader(string.Join("\n", lines));
        var error = Assert.Throws<RecordingFormatException>(() => reader.ReadToEnd());
        Assert.Equal("rec.jsonl: line 7: 'input' must be an array of numbers; found a string.", error.Message);
    }
}

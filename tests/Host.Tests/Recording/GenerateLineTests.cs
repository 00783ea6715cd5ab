using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Recording;

namespace Host.Tests.Recording;

/// <summary>The generate operation of rnn-recording/2: what it reads, what it writes, and every line it refuses.</summary>
public sealed class GenerateLineTests
{
    private static RecordedGenerate Read(string fields) =>
        Assert.IsType<RecordedGenerate>(RecordingText.Single("{\"session\":\"g\",\"op\":\"generate\"," + fields + "}"));

    [Fact]
    public void A_generate_reads_its_prompt_rule_stop_ids_and_expected_ids_probabilities_and_end()
    {
        var generate = Read("\"prompt_tokens\":[3,1,4],\"max_steps\":20,\"sampling\":\"random\",\"seed\":-9000000000000000000,\"temperature\":0.8," +
                            "\"top_k\":40,\"top_p\":0.9,\"stop_ids\":[0,63],\"expect_tokens\":[5,9,0],\"expect_probabilities\":[0.5,0.25,1],\"expect_end\":\"stop_id\"");

        Assert.Equal((2, "g", "generate", 20, 3), (generate.Line, generate.Session, generate.Op, generate.MaxSteps, generate.PromptSteps));
        Assert.Equal(new[] { 3, 1, 4 }, generate.PromptTokens.ToArray());
        Assert.Null(generate.PromptInputs);
        Assert.Equal(SamplingRule.Random(-9000000000000000000, 0.8, 40, 0.9), generate.Sampling);
        Assert.Equal(new[] { 0, 63 }, generate.StopIds.ToArray());
        Assert.Equal(new[] { 5, 9, 0 }, generate.ExpectTokens!.Value.ToArray());
        Assert.Equal(new[] { 0.5f, 0.25f, 1f }, generate.ExpectProbabilities!.Value.ToArray());
        Assert.Equal(GenerationEndReason.StopId, generate.ExpectEnd);
        Assert.Equal(3, generate.ExpectedSteps);
        Assert.Null(generate.ExpectOutputs);
    }

    [Fact]
    public void A_generate_needs_only_max_steps_and_is_then_greedy_without_prompt_stop_ids_or_expectations()
    {
        var generate = Read("\"max_steps\":4");

        Assert.Equal((4, 0), (generate.MaxSteps, generate.PromptSteps));
        Assert.Same(SamplingRule.Greedy, generate.Sampling);
        Assert.True(generate.StopIds.IsEmpty);
        Assert.Null(generate.ExpectTokens);
        Assert.Null(generate.ExpectOutputs);
        Assert.Null(generate.ExpectProbabilities);
        Assert.Null(generate.ExpectEnd);
        Assert.Null(generate.ExpectedSteps);
        Assert.Same(SamplingRule.Greedy, Read("\"max_steps\":4,\"sampling\":\"greedy\"").Sampling);
        Assert.Equal(SamplingRule.Random(7), Read("\"max_steps\":4,\"sampling\":\"random\",\"seed\":7").Sampling);
    }

    [Fact]
    public void A_generate_of_vectors_reads_its_prompt_rows_and_the_vectors_it_must_feed_back()
    {
        var generate = Read("\"prompt_inputs\":[[1,2],[3,4]],\"max_steps\":3,\"expect_outputs\":[[0.5,-0.5],[0.25,0]],\"expect_end\":\"cancelled\"");

        Assert.Equal((2, 2), (generate.PromptInputs!.Rows, generate.PromptInputs.Columns));
        Assert.Equal(new[] { 3f, 4f }, generate.PromptInputs.Row(1).ToArray());
        Assert.Equal(new[] { 0.5f, -0.5f, 0.25f, 0f }, generate.ExpectOutputs!.Values.ToArray());
        Assert.Equal((GenerationEndReason.Cancelled, 2), (generate.ExpectEnd, generate.ExpectedSteps));
    }

    [Theory]
    [InlineData("\"max_steps\":2,\"stop_ids\":[7],\"expect_tokens\":[1,7],\"expect_end\":\"stop_id\"", GenerationEndReason.StopId)]
    [InlineData("\"max_steps\":2,\"stop_ids\":[7],\"expect_tokens\":[1,2],\"expect_end\":\"max_steps\"", GenerationEndReason.MaxSteps)]
    [InlineData("\"max_steps\":5,\"stop_ids\":[7],\"expect_tokens\":[1],\"expect_end\":\"cancelled\"", GenerationEndReason.Cancelled)]
    [InlineData("\"max_steps\":5,\"expect_tokens\":[],\"expect_end\":\"cancelled\"", GenerationEndReason.Cancelled)]
    [InlineData("\"max_steps\":2,\"stop_ids\":[7],\"expect_tokens\":[1,7],\"expect_end\":\"interrupted\"", GenerationEndReason.Interrupted)]
    [InlineData("\"max_steps\":5,\"expect_outputs\":[],\"expect_end\":\"interrupted\"", GenerationEndReason.Interrupted)]
    public void Every_way_a_generation_ends_reads_by_its_name(string fields, GenerationEndReason end)
    {
        Assert.Equal(end, Read(fields).ExpectEnd);
    }

    [Fact]
    public void A_refused_generate_may_carry_values_the_server_refuses_but_no_expectation()
    {
        var generate = Read("\"prompt_tokens\":[-1],\"max_steps\":0,\"sampling\":\"random\",\"seed\":1,\"temperature\":-2,\"top_p\":1.5,\"stop_ids\":[99999],\"expect_error\":true");

        Assert.True(generate.ExpectError);
        Assert.Equal((0, -2.0, 1.5), (generate.MaxSteps, generate.Sampling.Temperature, generate.Sampling.TopP));
        Assert.Null(generate.ExpectEnd);
    }

    public static TheoryData<string, string, string> BadLines => new()
    {
        { "", "max_steps", "'max_steps' is missing; expected the most steps to generate (an integer, 0 or more)." },
        { "\"max_steps\":-1", "max_steps", "'max_steps' must be an integer from 0 to 2147483647; found the number -1." },
        { "\"max_steps\":2.5", "max_steps", "'max_steps' must be an integer from 0 to 2147483647; found the number 2.5." },
        { "\"max_steps\":\"3\"", "max_steps", "'max_steps' must be an integer from 0 to 2147483647; found a string." },
        { "\"max_steps\":3,\"prompt_tokens\":[1],\"prompt_inputs\":[[1]]", "prompt_tokens", "a generate takes its prompt from 'prompt_tokens' (ids) or 'prompt_inputs' (rows of vectors); found both." },
        { "\"max_steps\":3,\"prompt_tokens\":\"abc\"", "prompt_tokens", "'prompt_tokens' must be an array of integer ids; found a string." },
        { "\"max_steps\":3,\"prompt_inputs\":[[1,2],[3]]", "prompt_inputs", "'prompt_inputs'[1] has 1 number(s) but 'prompt_inputs'[0] has 2; every row must have the same length." },
        { "\"max_steps\":3,\"sampling\":\"top\"", "sampling", "'sampling' is \"top\"; expected \"greedy\" or \"random\"." },
        { "\"max_steps\":3,\"sampling\":1", "sampling", "'sampling' must be \"greedy\" or \"random\"; found the number 1." },
        { "\"max_steps\":3,\"seed\":5", "seed", "'seed' goes with \"sampling\": \"random\" only; a greedy generate draws nothing." },
        { "\"max_steps\":3,\"sampling\":\"greedy\",\"top_k\":5", "top_k", "'top_k' goes with \"sampling\": \"random\" only" },
        { "\"max_steps\":3,\"sampling\":\"random\"", "seed", "a random generate needs 'seed' (an integer, the random stream's key); found none." },
        { "\"max_steps\":3,\"sampling\":\"random\",\"seed\":1.5", "seed", "'seed' must be an integer from -9223372036854775808 to 9223372036854775807; found the number 1.5." },
        { "\"max_steps\":3,\"sampling\":\"random\",\"seed\":9223372036854775808", "seed", "found the number 9223372036854775808." },
        { "\"max_steps\":3,\"sampling\":\"random\",\"seed\":1,\"top_k\":0", "top_k", "'top_k' must be an integer from 1 to 2147483647; found the number 0." },
        { "\"max_steps\":3,\"sampling\":\"random\",\"seed\":1,\"temperature\":\"hot\"", "temperature", "'temperature' must be a finite number; found a string." },
        { "\"max_steps\":3,\"sampling\":\"random\",\"seed\":1,\"top_p\":1e999", "top_p", "'top_p' must be a finite number; found the number 1e999." },
        { "\"max_steps\":3,\"stop_ids\":[1,\"x\"]", "stop_ids", "'stop_ids'[1] must be an integer id from -2147483648 to 2147483647; found a string." },
        { "\"max_steps\":3,\"report_top\":5", "report_top", "unknown field 'report_top' in a generate; expected only session, op, prompt_tokens, prompt_inputs, max_steps, sampling, seed, temperature, top_k, top_p, stop_ids, expect_tokens, expect_outputs, expect_probabilities, expect_end, expect_error." },
        { "\"max_steps\":3,\"expect_tokens\":[1],\"expect_end\":\"cancelled\",\"expect_error\":true", "expect_tokens", "'expect_tokens' cannot go with \"expect_error\": true" },
        { "\"max_steps\":3,\"expect_end\":\"cancelled\",\"expect_error\":true", "expect_end", "'expect_end' cannot go with \"expect_error\": true" },
        { "\"max_steps\":3,\"expect_tokens\":[1.5]", "expect_tokens", "'expect_tokens'[0] must be an integer id from -2147483648 to 2147483647; found the number 1.5." },
        { "\"max_steps\":3,\"expect_tokens\":[1]", "expect_tokens", "'expect_tokens' needs 'expect_end', how the generation ended (\"stop_id\", \"max_steps\", \"cancelled\", \"interrupted\"); found none." },
        { "\"max_steps\":3,\"expect_outputs\":[[1]]", "expect_outputs", "'expect_outputs' needs 'expect_end'" },
        { "\"max_steps\":3,\"expect_end\":\"max_steps\"", "expect_end", "'expect_end' needs the steps it ends: 'expect_tokens' (ids) or 'expect_outputs' (vectors); found neither." },
        { "\"max_steps\":3,\"expect_tokens\":[1],\"expect_end\":\"done\"", "expect_end", "'expect_end' is \"done\"; expected one of \"stop_id\", \"max_steps\", \"cancelled\", \"interrupted\"." },
        { "\"max_steps\":3,\"expect_tokens\":[1],\"expect_end\":true", "expect_end", "'expect_end' must be one of \"stop_id\", \"max_steps\", \"cancelled\", \"interrupted\"; found true." },
        { "\"max_steps\":1,\"expect_tokens\":[1],\"expect_outputs\":[[1]],\"expect_end\":\"max_steps\"", "expect_tokens", "a generate expects either 'expect_tokens' (the ids of a model with an embedding and a head) or 'expect_outputs' (the vectors a vector model feeds back); found both." },
        { "\"max_steps\":1,\"expect_outputs\":[[1]],\"expect_probabilities\":[0.5],\"expect_end\":\"max_steps\"", "expect_probabilities", "'expect_probabilities' gives the probability of each expected id; it needs 'expect_tokens', and there are none." },
        { "\"max_steps\":2,\"expect_tokens\":[1,2],\"expect_probabilities\":[0.5],\"expect_end\":\"max_steps\"", "expect_probabilities", "'expect_probabilities' has 1 value(s) but 'expect_tokens' has 2; expected one probability per id." },
        { "\"max_steps\":1,\"expect_tokens\":[1],\"expect_probabilities\":[1.5],\"expect_end\":\"max_steps\"", "expect_probabilities", "'expect_probabilities'[0] is 1.5; expected a probability from 0 to 1." },
        { "\"max_steps\":1,\"expect_tokens\":[1],\"expect_probabilities\":[\"NaN\"],\"expect_end\":\"max_steps\"", "expect_probabilities", "'expect_probabilities'[0] is NaN; expected a probability from 0 to 1." },
        { "\"max_steps\":1,\"expect_tokens\":[1,2],\"expect_end\":\"interrupted\"", "expect_tokens", "'expect_tokens' has 2 step(s) but 'max_steps' is 1; a generation takes at most its maximum." },
        { "\"max_steps\":0,\"expect_outputs\":[[1]],\"expect_end\":\"interrupted\"", "expect_outputs", "'expect_outputs' has 1 step(s) but 'max_steps' is 0" },
        { "\"max_steps\":5,\"stop_ids\":[7],\"expect_tokens\":[1,7,2],\"expect_end\":\"cancelled\"", "expect_tokens", "'expect_tokens'[1] is 7, one of 'stop_ids', but the generation goes on after it; a stop id ends a generation." },
        { "\"max_steps\":5,\"stop_ids\":[7],\"expect_tokens\":[1,2],\"expect_end\":\"stop_id\"", "expect_end", "'expect_end' is \"stop_id\" but the last expected id, 2, is not one of 'stop_ids'." },
        { "\"max_steps\":5,\"stop_ids\":[7],\"expect_tokens\":[],\"expect_end\":\"stop_id\"", "expect_end", "'expect_end' is \"stop_id\" but no id is expected; a generation ends at a stop id once it has generated one." },
        { "\"max_steps\":5,\"expect_outputs\":[[1]],\"expect_end\":\"stop_id\"", "expect_end", "'expect_end' is \"stop_id\" but the generation feeds back vectors; only ids stop a generation." },
        { "\"max_steps\":3,\"expect_tokens\":[1,2],\"expect_end\":\"max_steps\"", "expect_end", "'expect_end' is \"max_steps\" but 2 step(s) are expected and 'max_steps' is 3." },
        { "\"max_steps\":2,\"stop_ids\":[7],\"expect_tokens\":[1,7],\"expect_end\":\"max_steps\"", "expect_end", "'expect_end' is \"max_steps\" but the last expected id, 7, is one of 'stop_ids'; the generation ended at it (\"stop_id\")." },
        { "\"max_steps\":3,\"stop_ids\":[7],\"expect_tokens\":[7],\"expect_end\":\"cancelled\"", "expect_end", "'expect_end' is \"cancelled\" but the last expected id, 7, is one of 'stop_ids'" },
        { "\"max_steps\":2,\"expect_tokens\":[1,2],\"expect_end\":\"cancelled\"", "expect_end", "'expect_end' is \"cancelled\" but all 2 step(s) of 'max_steps' are expected; the generation ended at its maximum (\"max_steps\")." },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void An_invalid_generate_is_refused_naming_its_line_and_field(string fields, string field, string message)
    {
        var line = "{\"session\":\"g\",\"op\":\"generate\"" + (fields.Length > 0 ? "," + fields : "") + "}";
        using var reader = RecordingText.Reader(string.Join("\n", RecordingText.Header, "{\"session\":\"g\",\"op\":\"open\"}", line));
        reader.Read();

        var error = Assert.Throws<RecordingFormatException>(() => reader.Read());

        Assert.Equal((3, field), (error.LineNumber, error.Field));
        Assert.StartsWith("rec.jsonl: line 3: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<RecordedGenerate> EveryShape()
    {
        yield return new RecordedGenerate(0, "g", 4);
        yield return new RecordedGenerate(0, "g", 20)
        {
            PromptTokens = new[] { 3, 1, 4 },
            Sampling = SamplingRule.Random(long.MinValue, 0.1 + 0.2, 40, 0.9),
            StopIds = new[] { 0, 63 },
            ExpectTokens = new[] { 5, 9, 0 },
            ExpectProbabilities = new[] { 1f / 3, 0.25f, float.Epsilon },
            ExpectEnd = GenerationEndReason.StopId,
        };
        yield return new RecordedGenerate(0, "g", 2) { Sampling = SamplingRule.Random(long.MaxValue), ExpectTokens = new[] { 1, 2 }, ExpectEnd = GenerationEndReason.MaxSteps };
        yield return new RecordedGenerate(0, "v", 9)
        {
            PromptInputs = FloatMatrix.FromRows([0.5f, float.NaN], [1e-7f, -0f]),
            ExpectOutputs = FloatMatrix.FromRows([1f / 3, 2f]),
            ExpectEnd = GenerationEndReason.Interrupted,
        };
        yield return new RecordedGenerate(0, "g", 5) { PromptTokens = new[] { 1 }, ExpectTokens = Array.Empty<int>(), ExpectEnd = GenerationEndReason.Cancelled };
        yield return new RecordedGenerate(0, "g", 0) { Sampling = SamplingRule.Random(1, temperature: -1, topP: 2), StopIds = new[] { -5 }, ExpectError = true };
    }

    [Fact]
    public void Every_shape_of_generate_reads_back_as_written_bit_for_bit()
    {
        var text = new StringWriter();
        var written = EveryShape().ToList();
        using (var writer = new RecordingWriter(text, new RecordingHeader("m.json")))
        {
            written.ForEach(writer.Write);
        }

        using var reader = RecordingText.Reader(text.ToString());
        var read = reader.ReadToEnd().Cast<RecordedGenerate>().ToList();
        Assert.Equal(written.Count, read.Count);
        foreach (var (expected, actual) in written.Zip(read))
        {
            Assert.Equal((expected.Session, expected.MaxSteps, expected.Sampling, expected.ExpectEnd, expected.ExpectError),
                (actual.Session, actual.MaxSteps, actual.Sampling, actual.ExpectEnd, actual.ExpectError));
            Assert.Equal(expected.PromptTokens.ToArray(), actual.PromptTokens.ToArray());
            Assert.Equal(RecordingText.Bits(expected.PromptInputs?.Values ?? default), RecordingText.Bits(actual.PromptInputs?.Values ?? default));
            Assert.Equal(expected.StopIds.ToArray(), actual.StopIds.ToArray());
            Assert.Equal(expected.ExpectTokens?.ToArray(), actual.ExpectTokens?.ToArray());
            Assert.Equal(RecordingText.Bits(expected.ExpectProbabilities ?? default), RecordingText.Bits(actual.ExpectProbabilities ?? default));
            Assert.Equal(RecordingText.Bits(expected.ExpectOutputs?.Values ?? default), RecordingText.Bits(actual.ExpectOutputs?.Values ?? default));
        }
    }

    [Fact]
    public void A_generate_is_written_as_the_documented_json()
    {
        var text = new StringWriter();
        using (var writer = new RecordingWriter(text, new RecordingHeader("m.json")))
        {
            writer.Write(new RecordedGenerate(0, "g", 3)
            {
                PromptTokens = new[] { 3, 1 },
                Sampling = SamplingRule.Random(7, 0.5, topP: 0.875),
                StopIds = new[] { 0 },
                ExpectTokens = new[] { 5, 0 },
                ExpectProbabilities = new[] { 0.5f, 0.25f },
                ExpectEnd = GenerationEndReason.StopId,
            });
            writer.Write(new RecordedGenerate(0, "g", 2) { ExpectError = true });
        }

        Assert.Equal(
            "{\"format\":\"rnn-recording/2\",\"model\":\"m.json\",\"tolerance\":0.0001}\n" +
            "{\"session\":\"g\",\"op\":\"generate\",\"prompt_tokens\":[3,1],\"max_steps\":3,\"sampling\":\"random\",\"seed\":7,\"temperature\":0.5,\"top_p\":0.875," +
            "\"stop_ids\":[0],\"expect_tokens\":[5,0],\"expect_probabilities\":[0.5,0.25],\"expect_end\":\"stop_id\"}\n" +
            "{\"session\":\"g\",\"op\":\"generate\",\"max_steps\":2,\"expect_error\":true}\n",
            text.ToString());
    }

    [Fact]
    public void A_generate_the_reader_would_refuse_is_not_written()
    {
        var text = new StringWriter();
        using var writer = new RecordingWriter(text, new RecordingHeader("m.json"));
        var ended = new RecordedGenerate(0, "g", 2) { ExpectTokens = new[] { 1, 2 }, ExpectEnd = GenerationEndReason.MaxSteps };

        Assert.Throws<ArgumentException>(() => writer.Write(ended with { ExpectError = true }));
        Assert.Throws<ArgumentException>(() => writer.Write(ended with { ExpectEnd = GenerationEndReason.Cancelled }));
        Assert.Throws<ArgumentException>(() => writer.Write(ended with { ExpectEnd = null }));
        Assert.Throws<ArgumentException>(() => writer.Write(ended with { StopIds = new[] { 1 } }));
        Assert.Throws<ArgumentException>(() => writer.Write(ended with { MaxSteps = -1 }));
        Assert.Throws<ArgumentException>(() => writer.Write(ended with { PromptTokens = new[] { 1 }, PromptInputs = FloatMatrix.FromRows([1f]) }));
        Assert.Throws<ArgumentException>(() => writer.Write(new RecordedGenerate(0, "g", 2) { Sampling = SamplingRule.Random(1, temperature: double.NaN) }));
        Assert.Throws<ArgumentException>(() => writer.Write(new RecordedGenerate(0, "g", 2) { Sampling = SamplingRule.Random(1, topK: 0) }));
        var error = Assert.Throws<ArgumentException>(() => writer.Write(ended with { ExpectProbabilities = new[] { 2f, 0f } }));
        Assert.Contains("'expect_probabilities'[0] is 2; expected a probability from 0 to 1.", error.Message, StringComparison.Ordinal);
        writer.Flush();
        Assert.Equal(1, text.ToString().Count(c => c == '\n'));
    }

    [Fact]
    public void A_version_1_writer_writes_the_version_1_header_and_refuses_a_generate()
    {
        var text = new StringWriter();
        using (var writer = new RecordingWriter(text, new RecordingHeader("m.json") { Version = 1 }))
        {
            writer.Write(new RecordedOpen(0, "a"));
            var error = Assert.Throws<ArgumentException>(() => writer.Write(new RecordedGenerate(0, "a", 3)));
            Assert.Contains("rnn-recording/1", error.Message, StringComparison.Ordinal);
        }

        Assert.StartsWith("{\"format\":\"rnn-recording/1\",", text.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RecordingWriter(new StringWriter(), new RecordingHeader("m.json") { Version = 3 }));
        using var reader = RecordingText.Reader(text.ToString());
        Assert.Equal(1, reader.Header.Version);
        Assert.Single(reader.ReadToEnd());
    }
}

using Streaming.Client;
using Streaming.Client.Protocol;

namespace Client.Tests;

/// <summary>
/// An application that references Streaming.Client alone talks to <c>serve</c> (the example model, char-english: token
/// ids in, 96 scores out) in a child process. Only the client's own assembly is loaded here, never the server's.
/// </summary>
public sealed class ServedClientTests(ServeProcess serve) : IClassFixture<ServeProcess>
{
    private static readonly int[] Text = "the quick brown fox".Select(c => c - 32).ToArray();

    private Task<StreamingClient> ConnectAsync() => StreamingClient.ConnectAsync("127.0.0.1", serve.Port);

    private static void AssertClose(ReadOnlyMemory<float> expected, ReadOnlyMemory<float> actual) =>
        Assert.Equal(expected.ToArray(), actual.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);

    [Fact]
    public void The_client_assembly_references_the_base_class_library_only()
    {
        var references = typeof(StreamingClient).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.NotEmpty(references);
        Assert.All(references, name => Assert.True(name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "netstandard",
            $"Streaming.Client references {name}; it may reference the base class library only (no Akka, TorchSharp or Streaming assembly)."));
    }

    [Fact]
    public async Task The_handshake_and_a_status_request_describe_the_served_model_and_its_kernel_check()
    {
        await using var client = await ConnectAsync();
        var status = await client.StatusAsync();

        Assert.Equal(("char-english", TokenKind.Ids, 96, 96), (client.Welcome.Model, client.Welcome.TokenKind, client.Welcome.InputSize, client.Welcome.OutputSize));
        Assert.True(status.Ready);
        Assert.NotEmpty(status.Kernels);
        Assert.True(await client.PingAsync() >= TimeSpan.Zero);
        AssertNoServerAssemblyLoaded();
    }

    [Fact]
    public async Task Tokens_pushed_one_by_one_give_what_one_replay_of_the_whole_sequence_gives()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync("loop");
        await client.OpenAsync("bulk");
        var streamed = new List<TokenReply>();
        foreach (var id in Text)
        {
            streamed.Add(await client.PushAsync("loop", TokenInput.Id(id)));
        }

        var replayed = await client.ReplayAsync("bulk", Text.Select(TokenInput.Id).ToList());

        Assert.Equal(Enumerable.Range(1, Text.Length).Select(p => (long)p), streamed.Select(o => o.Position));
        Assert.Equal(Text.Length, replayed.Position);
        Assert.Equal(Text.Length, replayed.Outputs.Count);
        for (var t = 0; t < Text.Length; t++)
        {
            Assert.Equal(96, streamed[t].Output.Length);
            AssertClose(replayed.Outputs[t], streamed[t].Output);
        }
    }

    [Fact]
    public async Task A_snapshot_read_by_the_client_and_restored_under_another_id_continues_bit_for_bit()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync("original");
        foreach (var id in Text[..5])
        {
            await client.PushAsync("original", TokenInput.Id(id));
        }

        var snapshot = await client.SnapshotAsync("original");
        Assert.Equal(("char-english", 5L, 2), (snapshot.Model, snapshot.Position, snapshot.Layers));
        Assert.Equal(64, snapshot.WeightsSha256.Length);
        Assert.Equal(2 * 128, snapshot.HiddenState().Length);
        Assert.Equal(2 * 128, snapshot.CellState().Length);
        Assert.Contains(snapshot.HiddenState(), h => h != 0);

        await client.RestoreAsync("twin", snapshot);
        var original = await client.PushAsync("original", TokenInput.Id(Text[5]));
        var twin = await client.PushAsync("twin", TokenInput.Id(Text[5]));
        Assert.Equal((6L, 6L), (original.Position, twin.Position));
        Assert.Equal(original.Output.ToArray(), twin.Output.ToArray());
    }

    [Fact]
    public async Task Refusals_carry_their_session_error_code_and_leave_the_session_as_it_was()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync("kept");
        var first = await client.PushAsync("kept", TokenInput.Id(Text[0]));

        var unknown = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("nobody", TokenInput.Id(1)));
        var outside = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("kept", TokenInput.Id(96)));
        var ahead = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("kept", TokenInput.Id(Text[1]), position: 3));
        var twice = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync("kept"));

        Assert.Equal((SessionErrorCode.UnknownSession, "nobody"), (unknown.SessionCode, unknown.Session));
        Assert.Equal(SessionErrorCode.InvalidInput, outside.SessionCode);
        Assert.Equal((SessionErrorCode.PositionAhead, 1L), (ahead.SessionCode, ahead.Position));
        Assert.Equal(SessionErrorCode.SessionAlreadyOpen, twice.SessionCode);
        Assert.False(unknown.ConnectionLost);

        // The session goes on at position 1, as if nothing had been refused: what a fresh session gives for the same two tokens.
        var second = await client.PushAsync("kept", TokenInput.Id(Text[1]), position: 1);
        await client.OpenAsync("fresh");
        await client.PushAsync("fresh", TokenInput.Id(Text[0]));
        var expected = await client.PushAsync("fresh", TokenInput.Id(Text[1]));
        Assert.Equal(2L, second.Position);
        Assert.Equal(expected.Output.ToArray(), second.Output.ToArray());
        Assert.Equal(1L, first.Position);
    }

    [Fact]
    public async Task A_request_the_client_cannot_encode_fails_before_it_is_sent_and_the_connection_stays_usable()
    {
        await using var client = await ConnectAsync();
        var tooLong = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync(new string('s', FrameCodec.MaxSessionIdBytes + 1)));

        Assert.Equal(ProtocolErrorCode.InvalidSessionId, tooLong.ProtocolCode);
        Assert.False(tooLong.ConnectionLost);
        await client.OpenAsync("after");
        Assert.Equal(1L, (await client.PushAsync("after", TokenInput.Id(Text[0]))).Position);
    }

    [Fact]
    public async Task A_greedy_generation_streams_at_each_step_the_most_probable_id_of_the_model_given_the_prompt_and_the_steps_before()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync("gen");
        var steps = new List<GenerationStep>();
        await foreach (var step in client.GenerateAsync("gen", GenerationRequest.Of(30, Text) with { ReportTop = 2 }))
        {
            steps.Add(step);
        }

        // The same sequence replayed in bulk in another session gives the logits each step was taken from.
        await client.OpenAsync("check");
        var inputs = Text.Concat(steps.Select(s => s.TokenId!.Value)).ToList();
        var replayed = await client.ReplayAsync("check", inputs.Select(TokenInput.Id).ToList());

        Assert.Equal(Enumerable.Range(0, 30), steps.Select(s => s.Step));
        Assert.Equal(Enumerable.Range(Text.Length + 1, 30).Select(p => (long)p), steps.Select(s => s.Position));
        for (var i = 0; i < steps.Count; i++)
        {
            var logits = replayed.Outputs[Text.Length - 1 + i].ToArray();
            var max = logits.Max();
            var probabilities = logits.Select(l => Math.Exp(l - max)).ToArray();
            var sum = probabilities.Sum();
            Assert.Equal(Array.IndexOf(logits, max), steps[i].TokenId);
            Assert.Equal(probabilities[steps[i].TokenId!.Value] / sum, steps[i].Probability!.Value, 1e-5);
            Assert.Equal(steps[i].TokenId, steps[i].Top[0].TokenId);
            Assert.Equal(steps[i].Probability, steps[i].Top[0].Probability);
            Assert.True(steps[i].Top[1].Probability <= steps[i].Top[0].Probability);
        }

        Assert.Equal(Text.Length + 31, (await client.PushAsync("gen", TokenInput.Id(0))).Position);
        AssertNoServerAssemblyLoaded();
    }

    [Fact]
    public async Task A_refused_generation_carries_the_engines_code_and_the_field_it_names()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync("bad");
        var error = await Assert.ThrowsAsync<StreamingClientException>(async () =>
        {
            await foreach (var step in client.GenerateAsync("bad", GenerationRequest.Of(5, Text) with { Sampling = SamplingRule.Random(1, temperature: -1) }))
            {
                Assert.Fail($"a refused generation yielded step {step.Step}");
            }
        });

        Assert.Equal(SessionErrorCode.InvalidInput, error.SessionCode);
        Assert.Contains("Temperature", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await client.PushAsync("bad", TokenInput.Id(0))).Position);
    }

    private static void AssertNoServerAssemblyLoaded()
    {
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name!).ToList();
        Assert.Contains("Streaming.Client", loaded);
        Assert.DoesNotContain(loaded, name => name.StartsWith("Akka", StringComparison.Ordinal) || name.StartsWith("TorchSharp", StringComparison.Ordinal)
            || name is "Streaming" or "Streaming.Host" or "Streaming.Cells");
    }
}

using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>
/// Token positions (<see cref="Token.At"/>): a token is applied only at the session's position; a resend below it is
/// answered DuplicateToken and not applied, a token beyond it PositionAhead; both name the session's position.
/// </summary>
public sealed class PositionTests
{
    private static Token At(Token token, long position) => token with { At = position };

    private static async Task<EngineException> Refused(Task task) => await Assert.ThrowsAsync<EngineException>(() => task);

    /// <summary>Outputs of a session that gets every token once, in order, without positions.</summary>
    private static async Task<float[][]> Undisturbed(RecurrentEngine engine, string session, Token[] tokens)
    {
        await engine.OpenAsync(session);
        var outputs = new float[tokens.Length][];
        for (var t = 0; t < tokens.Length; t++)
        {
            outputs[t] = (await engine.PushAsync(session, tokens[t])).Output.ToArray();
        }

        return outputs;
    }

    [Fact]
    public async Task A_resent_token_is_refused_DuplicateToken_with_its_original_output_while_the_session_keeps_it()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2, new EngineOptions { KeptOutputs = 3 });
        var tokens = TestModels.RandomSequence(TestModels.Lstm2, new Random(9), 6);
        await scope.Engine.OpenAsync("a");
        var outputs = new float[tokens.Length][];
        for (var t = 0; t < tokens.Length; t++)
        {
            outputs[t] = (await scope.Engine.PushAsync("a", At(tokens[t], t))).Output.ToArray();
        }

        foreach (var resent in new[] { 3, 5, 4 })
        {
            var duplicate = await Refused(scope.Engine.PushAsync("a", At(tokens[resent], resent)));
            Assert.Equal((EngineErrorCode.DuplicateToken, 6L), (duplicate.Code, duplicate.Position!.Value));
            Assert.Equal(("a", resent + 1L), (duplicate.Output!.SessionId, duplicate.Output.Position));
            Assert.Equal(outputs[resent], duplicate.Output.Output.ToArray());
        }

        // Older than the three kept: refused all the same, without an output.
        var old = await Refused(scope.Engine.PushAsync("a", At(tokens[2], 2)));
        Assert.Equal((EngineErrorCode.DuplicateToken, (TokenOutput?)null), (old.Code, old.Output));
    }

    [Fact]
    public async Task A_token_resent_while_its_original_is_in_the_pipeline_gets_the_originals_output_once_computed()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2);
        var tokens = TestModels.RandomSequence(TestModels.Lstm2, new Random(10), 40);
        await scope.Engine.OpenAsync("a");

        // Each copy is sent right behind its original, before the original can have come back from the pipeline.
        var originals = new List<Task<TokenOutput>>();
        var copies = new List<Task<TokenOutput>>();
        for (var t = 0; t < tokens.Length; t++)
        {
            originals.Add(scope.Engine.PushAsync("a", At(tokens[t], t)));
            copies.Add(scope.Engine.PushAsync("a", At(tokens[t], t)));
        }

        for (var t = 0; t < tokens.Length; t++)
        {
            var original = await originals[t];
            var duplicate = await Refused(copies[t]);
            Assert.Equal(EngineErrorCode.DuplicateToken, duplicate.Code);
            Assert.Equal(original.Output.ToArray(), duplicate.Output!.Output.ToArray());
            Assert.Equal(t + 1, duplicate.Output.Position);
        }
    }

    [Fact]
    public async Task A_fresh_session_accepts_position_zero_and_refuses_any_other()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2);
        var tokens = TestModels.RandomSequence(TestModels.Lstm2, new Random(1), 2);
        await scope.Engine.OpenAsync("a");

        var ahead = await Refused(scope.Engine.PushAsync("a", At(tokens[0], 1)));
        var first = await scope.Engine.PushAsync("a", At(tokens[0], 0));

        Assert.Equal(EngineErrorCode.PositionAhead, ahead.Code);
        Assert.Equal(0L, ahead.Position);
        Assert.Equal("a", ahead.SessionId);
        Assert.Contains("tokens 0 to 0 are missing; resend from position 0", ahead.Message, StringComparison.Ordinal);
        Assert.Equal(1, first.Position);
    }

    [Fact]
    public async Task A_duplicate_is_not_applied_and_the_outputs_after_it_are_those_of_a_session_that_never_saw_it()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2);
        var tokens = TestModels.RandomSequence(TestModels.Lstm2, new Random(2), 8);
        var reference = await Undisturbed(scope.Engine, "ref", tokens);

        await scope.Engine.OpenAsync("a");
        for (var t = 0; t < 4; t++)
        {
            await scope.Engine.PushAsync("a", At(tokens[t], t));
        }

        foreach (var resent in new[] { 0, 2, 3 })
        {
            var duplicate = await Refused(scope.Engine.PushAsync("a", At(tokens[resent], resent)));
            Assert.Equal(EngineErrorCode.DuplicateToken, duplicate.Code);
            Assert.Equal(4L, duplicate.Position);
            Assert.Contains($"the token is at position {resent} but the session has consumed 4 token(s)", duplicate.Message, StringComparison.Ordinal);
        }

        Assert.Equal(4, (await scope.Engine.SnapshotAsync("a")).Position);
        for (var t = 4; t < tokens.Length; t++)
        {
            var output = await scope.Engine.PushAsync("a", At(tokens[t], t));
            Assert.Equal(t + 1, output.Position);
            Expect.BitExact(reference[t], output.Output.Span, $"step {t}");
        }
    }

    [Fact]
    public async Task Tokens_ahead_are_refused_in_order_and_resending_from_the_named_position_continues_exactly()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Gru2);
        var tokens = TestModels.RandomSequence(TestModels.Gru2, new Random(3), 8);
        var reference = await Undisturbed(scope.Engine, "ref", tokens);

        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", At(tokens[0], 0));
        await scope.Engine.PushAsync("a", At(tokens[1], 1));

        // Pipelined, not awaited: 2 is lost, so 3, 4 and 5 are all ahead of position 2.
        var ahead = Enumerable.Range(3, 3).Select(t => scope.Engine.PushAsync("a", At(tokens[t], t))).ToArray();
        foreach (var refused in ahead)
        {
            var error = await Refused(refused);
            Assert.Equal((EngineErrorCode.PositionAhead, 2L), (error.Code, error.Position!.Value));
        }

        var resent = await Task.WhenAll(Enumerable.Range(2, 6).Select(t => scope.Engine.PushAsync("a", At(tokens[t], t))));
        for (var i = 0; i < resent.Length; i++)
        {
            Assert.Equal(2 + i + 1, resent[i].Position);
            Expect.BitExact(reference[2 + i], resent[i].Output.Span, $"step {2 + i}");
        }
    }

    [Fact]
    public async Task A_passivated_session_resumes_at_its_position()
    {
        var spec = TestModels.Lstm2;
        var tokens = TestModels.RandomSequence(spec, new Random(4), 6);
        var store = new ObservedStore();
        await using var scope = await EngineScope.StartAsync(spec, new EngineOptions { PassivateAfter = TimeSpan.FromMilliseconds(50), Store = store });
        var reference = await Undisturbed(scope.Engine, "ref", tokens);

        await scope.Engine.OpenAsync("a");
        for (var t = 0; t < 3; t++)
        {
            await scope.Engine.PushAsync("a", At(tokens[t], t));
        }

        // Wait until "a" has passivated at position 3 (other saves, of "ref", may come first).
        SessionSnapshot? stored = null;
        while (stored is not { Position: 3 })
        {
            if (await store.NextSaveAsync() == "a")
            {
                stored = (await store.LoadAsync("a"))?.Snapshot;
            }
        }

        var duplicate = await Refused(scope.Engine.PushAsync("a", At(tokens[2], 2)));
        var ahead = await Refused(scope.Engine.PushAsync("a", At(tokens[4], 4)));
        var resumed = await scope.Engine.PushAsync("a", At(tokens[3], 3));

        Assert.Equal((EngineErrorCode.DuplicateToken, 3L), (duplicate.Code, duplicate.Position!.Value));
        Assert.Equal((EngineErrorCode.PositionAhead, 3L), (ahead.Code, ahead.Position!.Value));
        Assert.Equal(4, resumed.Position);
        Expect.BitExact(reference[3], resumed.Output.Span, "the first token after the resume");
    }

    [Fact]
    public async Task After_a_crash_the_session_resumes_from_its_last_persisted_snapshot_and_names_where_to_resend_from()
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(5), 9);
        var store = new InMemorySnapshotStore();
        float[][] reference;
        await using (var steady = await EngineScope.StartAsync(identity, weights))
        {
            reference = await Undisturbed(steady.Engine, "ref", tokens);
        }

        // The first engine persists "a" at position 4 (an eviction, as a checkpoint would), then applies 4-6 and
        // "crashes": it never saves again. A second engine on the same store takes the session over.
        await using var crashed = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store });
        await crashed.Engine.OpenAsync("a");
        for (var t = 0; t < 4; t++)
        {
            await crashed.Engine.PushAsync("a", At(tokens[t], t));
        }

        Assert.True(await crashed.Engine.EvictAsync("a"));
        for (var t = 4; t < 7; t++)
        {
            await crashed.Engine.PushAsync("a", At(tokens[t], t));
        }

        await using var successor = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store });
        var ahead = await Refused(successor.Engine.PushAsync("a", At(tokens[7], 7)));
        Assert.Equal((EngineErrorCode.PositionAhead, 4L), (ahead.Code, ahead.Position!.Value));
        Assert.Contains("resumed at position 4 from its last persisted snapshot", ahead.Message, StringComparison.Ordinal);

        for (var t = (int)ahead.Position.Value; t < tokens.Length; t++)
        {
            var output = await successor.Engine.PushAsync("a", At(tokens[t], t));
            Assert.Equal(t + 1, output.Position);
            Expect.BitExact(reference[t], output.Output.Span, $"step {t} after the crash");
        }
    }

    [Fact]
    public async Task A_replay_advances_the_position_by_its_steps_in_order_with_the_tokens_around_it()
    {
        var spec = TestModels.Lstm2;
        await using var scope = await EngineScope.StartAsync(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(6), 6);
        using var reference = new Reference(TestModels.Create(spec).Weights, Cells.Backends.BackendOptions.Managed);
        var expected = reference.Run(tokens).Outputs;

        await scope.Engine.OpenAsync("a");

        // All submitted before any completes: positions are checked in submission order.
        var first = scope.Engine.PushAsync("a", At(tokens[0], 0));
        var replay = scope.Engine.ReplayAsync("a", tokens[1..4]);
        var stale = scope.Engine.PushAsync("a", At(tokens[3], 3));
        var beyond = scope.Engine.PushAsync("a", At(tokens[5], 5));
        var next = scope.Engine.PushAsync("a", At(tokens[4], 4));
        var last = scope.Engine.PushAsync("a", At(tokens[5], 5));

        Assert.Equal(1, (await first).Position);
        Assert.Equal(4, (await replay).Position);
        var duplicate = await Refused(stale);
        var ahead = await Refused(beyond);
        Assert.Equal((EngineErrorCode.DuplicateToken, 4L), (duplicate.Code, duplicate.Position!.Value));
        Assert.Equal((EngineErrorCode.PositionAhead, 4L), (ahead.Code, ahead.Position!.Value));
        var (afterReplay, final) = (await next, await last);
        Assert.Equal(5, afterReplay.Position);
        Assert.Equal(6, final.Position);
        Expect.Close(expected[4], afterReplay.Output.Span, "the token after the replay");
        Expect.Close(expected[5], final.Output.Span, "the last token");
    }

    [Fact]
    public async Task Reset_sets_the_position_back_to_zero_and_restore_to_the_snapshots()
    {
        var spec = TestModels.RnnRelu;
        await using var scope = await EngineScope.StartAsync(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(7), 4);
        await scope.Engine.OpenAsync("a");
        for (var t = 0; t < 3; t++)
        {
            await scope.Engine.PushAsync("a", At(tokens[t], t));
        }

        var snapshot = await scope.Engine.SnapshotAsync("a");
        await scope.Engine.ResetAsync("a");
        var afterReset = await Refused(scope.Engine.PushAsync("a", At(tokens[3], 3)));
        var zero = await scope.Engine.PushAsync("a", At(tokens[0], 0));
        await scope.Engine.RestoreAsync("a", snapshot);
        var afterRestore = await Refused(scope.Engine.PushAsync("a", At(tokens[0], 1)));
        var fourth = await scope.Engine.PushAsync("a", At(tokens[3], 3));

        Assert.Equal((EngineErrorCode.PositionAhead, 0L), (afterReset.Code, afterReset.Position!.Value));
        Assert.Equal(1, zero.Position);
        Assert.Equal((EngineErrorCode.DuplicateToken, 3L), (afterRestore.Code, afterRestore.Position!.Value));
        Assert.Equal(4, fourth.Position);
    }

    [Fact]
    public async Task Tokens_without_a_position_are_applied_wherever_the_session_is_and_other_refusals_carry_none()
    {
        var spec = TestModels.EmbeddingHead;
        await using var scope = await EngineScope.StartAsync(spec);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", Token.Id(1));
        await scope.Engine.PushAsync("a", At(Token.Id(2), 1));
        var plain = await scope.Engine.PushAsync("a", Token.Id(3));
        var invalid = await Refused(scope.Engine.PushAsync("a", At(Token.Id(99), 3)));
        var unknown = await Refused(scope.Engine.PushAsync("nobody", At(Token.Id(1), 0)));

        Assert.Equal(3, plain.Position);
        Assert.Equal((EngineErrorCode.InvalidInput, (long?)null), (invalid.Code, invalid.Position));
        Assert.Equal((EngineErrorCode.UnknownSession, (long?)null), (unknown.Code, unknown.Position));
    }
}

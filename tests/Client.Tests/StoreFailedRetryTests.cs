using Streaming.Client;
using Streaming.Client.Protocol;

namespace Client.Tests;

/// <summary>
/// The client's retry of requests refused StoreFailed, against a server whose store the test fails request by request
/// (<see cref="StoreServer"/>): each rule of docs/protocol.md, "Retrying StoreFailed", with the refusals placed exactly.
/// Against a real <c>serve</c> whose PostgreSQL table goes away and comes back: <see cref="ServedStoreOutageTests"/>.
/// </summary>
public sealed class StoreFailedRetryTests
{
    // Short waits, so that the tests run in milliseconds; the deadline is far, unless a test says otherwise.
    private static readonly StreamingClientOptions Quick = new()
    {
        StoreFailedRetry = StoreFailedRetry.Default with { FirstDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(40) },
    };

    [Fact]
    public async Task Requests_refused_StoreFailed_are_sent_again_in_their_order_and_applied_once_each_when_the_store_answers()
    {
        await using var server = StoreServer.Start();
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, Quick);
        server.StoreDown(true);

        var open = client.OpenAsync("s");
        var tokens = Enumerable.Range(1, 3).Select(id => client.PushAsync("s", TokenInput.Id(id))).ToList();
        await Until(() => client.Statistics.StoreFailedResends >= 3, client);
        Assert.Equal(1, client.Statistics.SessionsRetrying);
        Assert.False(open.IsCompleted || tokens.Any(t => t.IsCompleted), "a call completed while its store was down");
        server.StoreDown(false);

        await open;
        var replies = await Task.WhenAll(tokens);
        Assert.Equal([1L, 2L, 3L], replies.Select(r => r.Position));
        Assert.Equal([0f, 1f, 2f], replies.Select(r => r.Output.Span[0]));
        Assert.Equal(["open s", "token s@0", "token s@1", "token s@2"], server.Applied);
        // The session stops being tracked once its last answer is handled, just after its caller got it.
        await Until(() => client.Statistics.SessionsRetrying == 0, client);
        Assert.Equal((0L, 0L), (client.Statistics.StoreFailedGiveUps, client.Statistics.StoreFailedNotResent));
    }

    [Fact]
    public async Task While_one_session_waits_for_its_store_the_others_are_answered_and_nothing_of_theirs_is_held()
    {
        await using var server = StoreServer.Start();
        server.Holds("busy", 0);
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, Quick);
        server.Refuse(frame => frame.Session == "stuck");

        var stuck = client.OpenAsync("stuck");
        await Until(() => client.Statistics.StoreFailedResends >= 2, client);
        for (var t = 0; t < 5; t++)
        {
            Assert.Equal(t + 1, (await client.PushAsync("busy", TokenInput.Id(t))).Position);
        }

        Assert.False(stuck.IsCompleted);
        server.StoreDown(false);
        await stuck;
        Assert.Equal(["token busy@0", "token busy@1", "token busy@2", "token busy@3", "token busy@4", "open stuck"], server.Applied);
    }

    [Fact]
    public async Task A_resent_token_with_a_position_that_the_session_had_applied_is_answered_with_its_original_output()
    {
        await using var server = StoreServer.Start();
        // Tokens 0 and 1 were applied before (a crash, a dropped connection): the application resends from 1.
        server.Holds("d", 2);
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, Quick);
        server.StoreDown(true);

        var resent = client.PushAsync("d", TokenInput.Id(7), position: 1);
        var next = client.PushAsync("d", TokenInput.Id(8), position: 2);
        await Until(() => client.Statistics.StoreFailedResends >= 2, client);
        server.StoreDown(false);

        var original = await resent;
        Assert.Equal((2L, 1f), (original.Position, original.Output.Span[0]));
        Assert.Equal((3L, 2f), ((await next).Position, (await next).Output.Span[0]));
        Assert.Equal(["token d@2"], server.Applied);

        // A duplicate the client did not resend itself stays the refusal it is.
        var duplicate = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("d", TokenInput.Id(7), position: 1));
        Assert.Equal((SessionErrorCode.DuplicateToken, 3L, 0), (duplicate.SessionCode, duplicate.Position, duplicate.Retries));
    }

    [Fact]
    public async Task A_token_refused_PositionAhead_behind_a_waiting_one_is_sent_again_after_it()
    {
        await using var server = StoreServer.Start();
        server.Holds("p", 0);
        server.HoldFirst(2);
        var refused = false;
        // Only the first copy of token 0 meets the failing store; token 1 then finds the session still at 0.
        server.Refuse(frame => frame is TokenFrame { Position: 0 } && !refused && (refused = true));
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, Quick);

        var first = client.PushAsync("p", TokenInput.Id(1), position: 0);
        var second = client.PushAsync("p", TokenInput.Id(2), position: 1);

        Assert.Equal([1L, 2L], (await Task.WhenAll(first, second)).Select(r => r.Position));
        Assert.Equal(["token p@0", "token p@1"], server.Applied);
        Assert.Equal(2, client.Statistics.StoreFailedResends);
    }

    [Fact]
    public async Task A_refused_request_is_not_sent_again_once_a_later_request_of_its_session_was_applied_before_it()
    {
        await using var server = StoreServer.Start();
        server.Holds("u", 0);
        server.HoldFirst(2);
        var refused = false;
        // The store fails the first token and is back for the second, which the server applies first.
        server.Refuse(frame => frame is TokenFrame { Id: 1 } && !refused && (refused = true));
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, Quick);

        var first = client.PushAsync("u", TokenInput.Id(1));
        var second = client.PushAsync("u", TokenInput.Id(2));

        Assert.Equal(1L, (await second).Position);
        var error = await Assert.ThrowsAsync<StreamingClientException>(() => first);
        Assert.Equal((SessionErrorCode.StoreFailed, 0), (error.SessionCode, error.Retries));
        Assert.Contains("not sent again", error.Message, StringComparison.Ordinal);
        Assert.Equal(["token u@0"], server.Applied);
        await Until(() => client.Statistics.SessionsRetrying == 0, client);
        Assert.Equal(new StreamingClientStatistics(0, 0, 1, 0), client.Statistics);
    }

    [Fact]
    public async Task Cancelling_withdraws_a_request_the_client_holds_and_the_session_goes_on_without_it()
    {
        await using var server = StoreServer.Start();
        server.Holds("c", 0);
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, Quick);
        server.StoreDown(true);
        using var refusedThenCancelled = new CancellationTokenSource();
        using var heldThenCancelled = new CancellationTokenSource();

        var kept = client.PushAsync("c", TokenInput.Id(1));
        var waiting = client.PushAsync("c", TokenInput.Id(2), cancellationToken: refusedThenCancelled.Token);
        // A resend goes out only once every earlier request of the session was answered: both are waiting now.
        await Until(() => client.Statistics.StoreFailedResends >= 1, client);
        var held = client.PushAsync("c", TokenInput.Id(3), cancellationToken: heldThenCancelled.Token);
        var after = client.PushAsync("c", TokenInput.Id(4));
        await refusedThenCancelled.CancelAsync();
        await heldThenCancelled.CancelAsync();
        server.StoreDown(false);

        Assert.Equal(refusedThenCancelled.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting)).CancellationToken);
        Assert.Equal(heldThenCancelled.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held)).CancellationToken);
        Assert.Equal([1L, 2L], (await Task.WhenAll(kept, after)).Select(r => r.Position));
        Assert.Equal(["token c@0", "token c@1"], server.Applied);
        Assert.DoesNotContain(server.Received, frame => frame is TokenFrame { Id: 3 });
    }

    [Fact]
    public async Task A_session_without_progress_until_the_deadline_fails_with_the_last_StoreFailed_and_what_the_client_tried()
    {
        await using var server = StoreServer.Start();
        // Without jitter: refused at 0, resent at 2 s, refused again, and a third send at 4 s would pass the deadline.
        var options = new StreamingClientOptions
        {
            StoreFailedRetry = StoreFailedRetry.Default with { FirstDelay = TimeSpan.FromSeconds(2), MaxDelay = TimeSpan.FromSeconds(2), Jitter = 0, GiveUpAfter = TimeSpan.FromSeconds(3) },
        };
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, options);
        server.StoreDown(true);

        var open = client.OpenAsync("g");
        // The session waits from its first refusal on: a request made now is held behind the open.
        await Until(() => client.Statistics.SessionsRetrying == 1, client);
        var behind = client.PushAsync("g", TokenInput.Id(1));

        var error = await Assert.ThrowsAsync<StreamingClientException>(() => open);
        Assert.Equal(SessionErrorCode.StoreFailed, error.SessionCode);
        Assert.Equal(1, error.Retries);
        Assert.Equal(2, server.Received.Count(f => f is OpenFrame));
        Assert.Contains("the test's store is down", error.Message, StringComparison.Ordinal);
        Assert.Contains("sent it 2 time(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("gave up: StoreFailedRetry.GiveUpAfter is 3 s", error.Message, StringComparison.Ordinal);
        var held = await Assert.ThrowsAsync<StreamingClientException>(() => behind);
        Assert.Equal(SessionErrorCode.StoreFailed, held.SessionCode);
        Assert.Contains("not sent: the client gave up", held.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Received, frame => frame is TokenFrame);
        await Until(() => client.Statistics.SessionsRetrying == 0, client);
        Assert.Equal(new StreamingClientStatistics(1, 2, 0, 0), client.Statistics);

        // The session is not stuck: once the store answers, the next call goes through.
        server.StoreDown(false);
        await client.OpenAsync("g");
        Assert.Equal(["open g"], server.Applied);
    }

    [Fact]
    public async Task Without_retries_a_StoreFailed_fails_its_call_at_once()
    {
        await using var server = StoreServer.Start();
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port, new StreamingClientOptions { StoreFailedRetry = null });
        server.StoreDown(true);

        var error = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync("x"));

        Assert.Equal((SessionErrorCode.StoreFailed, 0), (error.SessionCode, error.Retries));
        Assert.Single(server.Received);
        Assert.Equal(new StreamingClientStatistics(0, 0, 0, 0), client.Statistics);
    }

    [Fact]
    public async Task Retry_settings_out_of_range_are_refused_at_connect_naming_the_setting()
    {
        var bad = new StreamingClientOptions { StoreFailedRetry = StoreFailedRetry.Default with { Jitter = 1.5 } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => StreamingClient.ConnectAsync("127.0.0.1", 1, bad));

        Assert.Contains("Jitter is 1.5; expected a fraction from 0 to 1", error.Message, StringComparison.Ordinal);
    }

    // Waits for what the client reports (a guard, not a timing assertion): its retries run on their own timers.
    private static async Task Until(Func<bool> condition, StreamingClient client)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            Assert.False(guard.IsCancellationRequested, $"gave up waiting; the client reports {client.Statistics}");
            await Task.Delay(5, CancellationToken.None);
        }
    }
}

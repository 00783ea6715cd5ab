using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>Sending a session's requests, and what the client does with their refusals: the StoreFailed retry's side of the client.</summary>
public sealed partial class StreamingClient
{
    // A session's request: encoded at once (so a request that cannot be encoded fails here), then sent, or held behind its
    // session's requests waiting for a resend.
    private Task<T> SendSession<T>(string session, Func<ulong, Frame> create, PendingRequest pending, Task<T> result, long? at, CancellationToken cancellationToken, bool retryable = true)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        if (_retries is null)
        {
            return Send(create, pending, result);
        }

        if (_closed is { } closed)
        {
            return Task.FromException<T>(closed);
        }

        var request = new SessionRequest(session, create, pending, retryable, at, cancellationToken) { Sequence = NextSequence() };
        byte[] bytes;
        try
        {
            bytes = _codec.Encode(create(request.Sequence));
        }
        catch (Exception e) when (e is ProtocolException or ArgumentException)
        {
            return Task.FromException<T>(Unsendable(e));
        }

        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => _retries.Cancelled(request));
            result.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _retries.Submit(request, bytes);
        return result;
    }

    // Sends a session request: its first send with the bytes encoded already, a resend encoded anew under a fresh sequence
    // number. False when it could not be sent; its task has failed then.
    private bool Transmit(SessionRequest request, byte[]? encoded)
    {
        if (encoded is null)
        {
            request.Sequence = NextSequence();
            try
            {
                encoded = _codec.Encode(request.Create(request.Sequence));
            }
            catch (Exception e) when (e is ProtocolException or ArgumentException)
            {
                request.Target.Fail(Unsendable(e));
                return false;
            }
        }

        _pending[request.Sequence] = request.Target;
        if (!_outgoing.Writer.TryWrite(encoded))
        {
            _pending.TryRemove(request.Sequence, out _);
            request.Target.Fail(_closed ?? new StreamingClientException(0, "the client is closed.", connectionLost: true));
            return false;
        }

        // The reader may have failed everything between the write and the registration.
        if (_closed is { } lost && _pending.TryRemove(request.Sequence, out _))
        {
            request.Target.Fail(lost);
        }

        return true;
    }

    private List<SessionRequest> Unanswered(string session) =>
        _pending.Values.Select(p => p.Request).OfType<SessionRequest>().Where(r => r.Session == session).ToList();

    private void Answered(PendingRequest request, bool applied)
    {
        if (request.Request is { } sessionRequest)
        {
            _retries?.Answered(sessionRequest, applied);
        }
    }

    // The server refused a request: a StoreFailed may wait for a resend; a resent token it had applied already is answered
    // with the output the DuplicateToken carries.
    private void Refused(PendingRequest refused, ErrorFrame error)
    {
        var request = refused.Request;
        var exception = StreamingClientException.From(error, retries: request?.Resends ?? 0);
        if (request is null || _retries is null)
        {
            refused.Fail(exception);
            return;
        }

        if (request.Resends > 0 && error.Code == (ushort)SessionErrorCode.DuplicateToken && error.Output is { } output && request.At is { } at)
        {
            refused.Accept(new OutputFrame(error.Session, error.Sequence, at, output));
        }
        else if (_retries.Refused(request, error, exception))
        {
            return;
        }
        else
        {
            refused.Fail(exception);
        }

        _retries.Answered(request, applied: false);
    }
}

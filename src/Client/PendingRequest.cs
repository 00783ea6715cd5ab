using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>A request sent and not yet answered: the reply frames it expects complete its task.</summary>
internal abstract class PendingRequest
{
    /// <summary>Takes one reply frame (never an Error); true when the request is complete.</summary>
    public abstract bool Accept(Frame frame);

    public abstract void Fail(Exception error);

    /// <summary>The caller cancelled while the client still held the request (it was not applied).</summary>
    public virtual void Cancel(CancellationToken cancellationToken) => Fail(new OperationCanceledException(cancellationToken));

    /// <summary>The session request this answers, when it is one (pings and status requests are not).</summary>
    public SessionRequest? Request { get; set; }

    public static Pending<T> Of<T>(Func<Frame, T?> complete)
        where T : class => new(complete);

    /// <summary>A request answered by exactly one frame, turned into a result by a function (null: the wrong frame).</summary>
    internal sealed class Pending<T> : PendingRequest
        where T : class
    {
        private readonly Func<Frame, T?> _complete;
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Pending(Func<Frame, T?> complete) => _complete = complete;

        public Task<T> Task => _result.Task;

        public override bool Accept(Frame frame)
        {
            try
            {
                if (_complete(frame) is { } value)
                {
                    _result.TrySetResult(value);
                }
                else
                {
                    _result.TrySetException(new StreamingClientException(0, $"the server answered with a {frame.Type} frame, which does not answer this request."));
                }
            }
            catch (FormatException e)
            {
                // Only a snapshot is read past the frame: bytes the codec accepted but that hold no snapshot.
                _result.TrySetException(new StreamingClientException((ushort)SessionErrorCode.MalformedSnapshot, "the server's snapshot cannot be read: " + e.Message, innerException: e));
            }

            return true;
        }

        public override void Fail(Exception error) => _result.TrySetException(error);

        public override void Cancel(CancellationToken cancellationToken) => _result.TrySetCanceled(cancellationToken);
    }
}

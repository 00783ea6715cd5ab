using System.Buffers;
using System.Net.Sockets;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Stage;

namespace Streaming.Host.Server;

/// <summary>
/// One accepted socket as a flow: the bytes it reads come out, the bytes that go in are written. It owns the socket
/// and always closes it: once the peer has closed its side after the last write, or at the close deadline.
/// <para>
/// The server uses this stage, not Akka.Streams' <c>Tcp().Bind</c>, because with Akka.NET 1.5.74 every connection
/// accepted through <c>Tcp().Bind</c> stays reachable after it ends: each connection actor watches the bind handler
/// (the listener stage's actor, a <c>FunctionRef</c>) until it registers, and <c>FunctionRef</c> never removes an
/// unwatching watcher, so the listener kept every connection actor, and through it the connection's whole graph
/// (about 12 KB a connection, for good). Owning the socket also gives the full close with a deadline and lets the
/// accept loop refuse connections over the limit and back off when the process runs out of descriptors.
/// </para>
/// <para>
/// <b>Emits when</b> bytes were read and downstream pulled (it reads only while pulled, so a connection that does
/// not pull is backpressured by TCP). <b>Backpressures when</b> a write is in flight. <b>Completes when</b> the
/// peer closed its sending side (downstream completes; writing goes on). <b>Cancels when</b> the socket fails.
/// Once upstream has finished and every byte is written it sends its FIN, keeps reading (and discarding) until the
/// peer's FIN, then closes the socket; a write that makes no progress for <c>closeDeadline</c>, or a peer that does
/// not close within it, ends in a close all the same. The materialized task completes when the socket is closed.
/// A socket error fails downstream and closes the socket at once.
/// </para>
/// </summary>
internal sealed class SocketStage : GraphStageWithMaterializedValue<FlowShape<ByteString, ByteString>, Task>
{
    // Large enough for a full write chunk of the connection stage in one read; rented only while data is waiting.
    private const int ReadBytes = 64 * 1024;
    private readonly Socket _socket;
    private readonly TimeSpan _closeDeadline;

    public SocketStage(Socket socket, TimeSpan closeDeadline)
    {
        _socket = socket;
        _closeDeadline = closeDeadline;
        Shape = new FlowShape<ByteString, ByteString>(In, Out);
    }

    /// <summary>Bytes to write to the socket.</summary>
    public Inlet<ByteString> In { get; } = new("SocketStage.in");

    /// <summary>Bytes read from the socket.</summary>
    public Outlet<ByteString> Out { get; } = new("SocketStage.out");

    public override FlowShape<ByteString, ByteString> Shape { get; }

    public override ILogicAndMaterializedValue<Task> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new LogicAndMaterializedValue<Task>(new Logic(this, closed), closed.Task);
    }

    /// <summary>What one read produced: bytes, the end of the peer's stream (no bytes), or the error that ended it.</summary>
    private readonly record struct ReadResult(ByteString? Bytes, Exception? Error);

    private sealed class Logic : TimerGraphStageLogic
    {
        private const string CloseTimer = "close";
        private readonly SocketStage _stage;
        private readonly Socket _socket;
        private readonly TaskCompletionSource _closed;
        private Action<ReadResult> _onRead = _ => { };
        private Action<Exception?> _onWritten = _ => { };
        private bool _reading;
        private bool _writing;
        private bool _peerClosed;
        private bool _writesFinished;
        private bool _finSent;
        private bool _progressed;
        private ByteString? _unread;

        public Logic(SocketStage stage, TaskCompletionSource closed)
            : base(stage.Shape)
        {
            _stage = stage;
            _socket = stage._socket;
            _closed = closed;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: OnUpstreamFinish, onUpstreamFailure: _ => OnUpstreamFinish());
            SetHandler(stage.Out, onPull: OnPull, onDownstreamFinish: _ => OnDownstreamFinish());
        }

        public override void PreStart()
        {
            _onRead = GetAsyncCallback<ReadResult>(OnRead);
            _onWritten = GetAsyncCallback<Exception?>(OnWritten);

            // Half-closed by the peer is not the end: replies still go out, so the stage lives on after Out completes.
            SetKeepGoing(true);
            Pull(_stage.In);
        }

        public override void PostStop()
        {
            _socket.Dispose();
            _closed.TrySetResult();
        }

        protected override void OnTimer(object timerKey)
        {
            // A write still moving (a slow reader taking the last replies) earns another period; anything else closes.
            if (_writing && _progressed)
            {
                _progressed = false;
                ScheduleOnce(CloseTimer, _stage._closeDeadline);
                return;
            }

            CompleteStage();
        }

        private void OnPull()
        {
            if (_unread is { } bytes)
            {
                _unread = null;
                Push(_stage.Out, bytes);
            }
            else
            {
                Read();
            }
        }

        private void OnPush()
        {
            var bytes = Grab(_stage.In);
            _writing = true;
            _ = WriteAsync(bytes);
        }

        private async Task WriteAsync(ByteString bytes)
        {
            try
            {
                var data = bytes.ToArray();
                var sent = 0;
                while (sent < data.Length)
                {
                    sent += await _socket.SendAsync(data.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
                }

                _onWritten(null);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _onWritten(e);
            }
        }

        private void OnWritten(Exception? error)
        {
            _writing = false;
            _progressed = true;
            if (error is not null)
            {
                FailStage(error);
                return;
            }

            if (_writesFinished)
            {
                SendFin();
            }
            else
            {
                Pull(_stage.In);
            }
        }

        private void OnUpstreamFinish()
        {
            _writesFinished = true;
            ScheduleOnce(CloseTimer, _stage._closeDeadline);
            if (!_writing)
            {
                SendFin();
            }
        }

        private void OnDownstreamFinish()
        {
            // Nobody reads any more, but the peer's FIN must still be seen to close cleanly: read and discard until then.
            ScheduleOnce(CloseTimer, _stage._closeDeadline);
            Read();
        }

        private void SendFin()
        {
            if (_finSent)
            {
                return;
            }

            _finSent = true;
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The peer is gone already; the close below is all that is left to do.
                CompleteStage();
                return;
            }

            if (_peerClosed)
            {
                CompleteStage();
            }
            else if (IsClosed(_stage.Out))
            {
                Read();
            }
        }

        private void Read()
        {
            if (_reading || _peerClosed)
            {
                return;
            }

            _reading = true;
            _ = ReadAsync();
        }

        private async Task ReadAsync()
        {
            byte[]? buffer = null;
            try
            {
                // A zero-byte read waits for data without holding a buffer, so an idle connection costs none.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                buffer = ArrayPool<byte>.Shared.Rent(ReadBytes);
                var read = await _socket.ReceiveAsync(buffer.AsMemory(0, ReadBytes), SocketFlags.None).ConfigureAwait(false);
                _onRead(new ReadResult(read > 0 ? ByteString.CopyFrom(buffer, 0, read) : null, null));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _onRead(new ReadResult(null, e));
            }
            finally
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }

        private void OnRead(ReadResult result)
        {
            _reading = false;
            if (result.Error is { } error)
            {
                FailStage(error);
                return;
            }

            if (result.Bytes is not { } bytes)
            {
                _peerClosed = true;
                if (!IsClosed(_stage.Out))
                {
                    Complete(_stage.Out);
                }

                if (_finSent)
                {
                    CompleteStage();
                }

                return;
            }

            if (IsClosed(_stage.Out))
            {
                // Discarded: the connection has stopped reading and waits for the peer's FIN.
                Read();
            }
            else if (IsAvailable(_stage.Out))
            {
                Push(_stage.Out, bytes);
            }
            else
            {
                _unread = bytes;
            }
        }
    }
}

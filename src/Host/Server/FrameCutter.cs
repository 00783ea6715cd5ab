using System.Buffers;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Stage;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// Length-field framing of a connection's bytes (the cut Akka's <c>Framing.LengthField(4, maxFrameBytes, 0,
/// ByteOrder.LittleEndian)</c> makes) fused with decoding: each whole frame is decoded into an <see cref="Inbound"/>.
/// Unlike Akka's framing stage it does not fail the stream on a framing violation: it emits the violation as its
/// last element and completes, so the connection stage can still write the Error frame. (A failing stage cancels
/// the TCP connection with that failure, and Akka's TCP stage answers such a cancellation with an abort that can
/// discard the Error before the client reads it.)
/// <para>
/// <b>Emits when</b> a whole frame (or a violation) is buffered and downstream pulls. <b>Backpressures when</b>
/// downstream backpressures and a whole frame is buffered. <b>Completes when</b> upstream completes and the buffer
/// is empty (after emitting TruncatedFrame if it ends inside a frame), or after emitting a framing violation.
/// <b>Cancels when</b> downstream cancels, or after a framing violation.
/// </para>
/// </summary>
internal sealed class FrameCutter : GraphStage<FlowShape<ByteString, Inbound>>
{
    private readonly FrameCodec _codec;

    public FrameCutter(FrameCodec codec)
    {
        _codec = codec;
        Shape = new FlowShape<ByteString, Inbound>(In, Out);
    }

    public Inlet<ByteString> In { get; } = new("FrameCutter.in");

    public Outlet<Inbound> Out { get; } = new("FrameCutter.out");

    public override FlowShape<ByteString, Inbound> Shape { get; }

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : GraphStageLogic
    {
        private readonly FrameCutter _stage;
        private ByteString _buffer = ByteString.Empty;
        private bool _done;

        public Logic(FrameCutter stage)
            : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, onPush: () =>
            {
                _buffer += Grab(stage.In);
                TryEmit();
            }, onUpstreamFinish: () =>
            {
                if (_buffer.IsEmpty)
                {
                    CompleteStage();
                }
                else if (IsAvailable(stage.Out))
                {
                    TryEmit();
                }
            });
            SetHandler(stage.Out, onPull: TryEmit);
        }

        private void TryEmit()
        {
            if (_done || !IsAvailable(_stage.Out))
            {
                return;
            }

            int? length;
            try
            {
                length = _buffer.Count < FrameCodec.LengthFieldBytes ? null : _stage._codec.PeekFrameLength(new ReadOnlySequence<byte>(_buffer.Slice(0, FrameCodec.LengthFieldBytes).ToArray()));
            }
            catch (ProtocolException violation)
            {
                Finish(new Inbound(null, violation));
                return;
            }

            if (length is { } whole && _buffer.Count >= whole)
            {
                var frame = _buffer.Slice(0, whole).ToArray();
                _buffer = _buffer.Slice(whole);
                Push(_stage.Out, Inbound.Decode(_stage._codec, frame));
                if (_buffer.IsEmpty && IsClosed(_stage.In))
                {
                    CompleteStage();
                }

                return;
            }

            if (IsClosed(_stage.In))
            {
                Finish(new Inbound(null, new ProtocolException(ProtocolErrorCode.TruncatedFrame,
                    $"the connection ended inside a frame: {_buffer.Count} byte(s) arrived of {(length is { } expected ? $"a {expected}-byte frame" : "a 4-byte length prefix")}.")));
            }
            else if (!HasBeenPulled(_stage.In))
            {
                Pull(_stage.In);
            }
        }

        private void Finish(Inbound violation)
        {
            _done = true;
            _buffer = ByteString.Empty;
            Push(_stage.Out, violation);
            CompleteStage();
        }
    }
}

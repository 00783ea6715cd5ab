using System.Text;

namespace Streaming.Client.Protocol;

/// <summary>
/// The layout of every frame type, write side: writes the length prefix, the type byte and the body.
/// It refuses (with a <see cref="ProtocolException"/>) anything the decoder would refuse, so a frame
/// this library writes is always one it reads back.
/// </summary>
internal static class FrameEncoder
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Header of an Error frame without session and message: prefix, type, sequence, session length, code, message length.</summary>
    private const int ErrorOverhead = 4 + 1 + 8 + 1 + 2 + 2;

    public static void Write(ref FrameWriter w, Frame frame, ProtocolLimits limits)
    {
        var prefix = w.Length;
        w.U32(0);
        w.U8((byte)frame.Type);
        switch (frame)
        {
            case HelloFrame hello:
                w.Bytes(FrameCodec.Magic.Span);
                w.U16(hello.Version);
                break;
            case WelcomeFrame welcome:
                Welcome(ref w, welcome);
                break;
            case PingFrame ping:
                w.U64(ping.Nonce);
                break;
            case PongFrame pong:
                w.U64(pong.Nonce);
                break;
            case ErrorFrame error:
                Error(ref w, error, limits);
                break;
            case StatusRequestFrame request:
                w.U64(request.Nonce);
                break;
            case StatusFrame status:
                Status(ref w, status);
                break;
            case OpenFrame open:
                SessionHeader(ref w, open);
                String(ref w, open.Model, "model name", open);
                FloatVector(ref w, open.H0.Span);
                FloatVector(ref w, open.C0.Span);
                break;
            case TokenFrame token:
                SessionHeader(ref w, token);
                w.U8((byte)token.Kind);
                if (token.Kind == TokenKind.Vectors)
                {
                    FloatVector(ref w, token.Vector.Span);
                }
                else
                {
                    w.I32(token.Id);
                }

                if (token.Position is { } at)
                {
                    Position(at, token);
                    w.I64(at);
                }

                break;
            case ReplayFrame replay:
                Replay(ref w, replay);
                break;
            case OutputFrame output:
                SessionHeader(ref w, output);
                Position(output.Position, output);
                w.I64(output.Position);
                FloatVector(ref w, output.Output.Span);
                break;
            case ReplayOutputsFrame outputs:
                ReplayOutputs(ref w, outputs);
                break;
            case SnapshotReplyFrame reply:
                SessionHeader(ref w, reply);
                ByteBlock(ref w, reply.Snapshot.Span);
                break;
            case RestoreFrame restore:
                SessionHeader(ref w, restore);
                ByteBlock(ref w, restore.Snapshot.Span);
                break;
            case AckFrame ack:
                SessionHeader(ref w, ack);
                if (!FrameCodec.IsAcknowledgeable((byte)ack.Acknowledged))
                {
                    throw Invalid(ack, $"the acknowledged frame type is {ack.Acknowledged}; only Open, Restore, Reset and Close are acknowledged.");
                }

                w.U8((byte)ack.Acknowledged);
                break;
            case GenerateFrame generate:
                Generate(ref w, generate);
                break;
            case GenerationStepFrame step:
                GenerationStep(ref w, step);
                break;
            case GenerationEndFrame end:
                SessionHeader(ref w, end);
                if (!Enum.IsDefined(end.Reason) || end.Steps < 0)
                {
                    throw Invalid(end, $"the reason is {(byte)end.Reason} and the step count {end.Steps}; expected a reason 0 to 3 and 0 or more steps.");
                }

                Position(end.Position, end);
                w.U8((byte)end.Reason);
                w.U32((uint)end.Steps);
                w.I64(end.Position);
                break;
            case SnapshotRequestFrame or ResetFrame or CloseFrame or CancelGenerationFrame:
                SessionHeader(ref w, (SessionFrame)frame);
                break;
            default:
                throw new ArgumentException($"{frame.GetType().Name} is not a frame type of this protocol.", nameof(frame));
        }

        var total = w.Length - prefix;
        if (total > limits.MaxFrameBytes)
        {
            var session = frame is SessionFrame s ? s.Session : null;
            ulong? sequence = frame is SessionFrame q ? q.Sequence : null;
            throw new ProtocolException(ProtocolErrorCode.FrameTooLarge,
                $"cannot encode {Describe(frame)}: it takes {total} bytes; the maximum frame size is {limits.MaxFrameBytes} bytes.",
                session, sequence);
        }
    }

    /// <summary>Writes the length prefix of a frame that starts at byte 0 of <paramref name="buffer"/>.</summary>
    public static void PatchLength(Span<byte> buffer, int frameLength) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)(frameLength - FrameCodec.LengthFieldBytes));

    private static void Welcome(ref FrameWriter w, WelcomeFrame welcome)
    {
        ArgumentNullException.ThrowIfNull(welcome.Limits);
        if (welcome.Limits.Problem() is { } problem)
        {
            throw Invalid(welcome, "the limits are invalid: " + problem.Message);
        }

        if (!Enum.IsDefined(welcome.TokenKind))
        {
            throw Invalid(welcome, $"the token kind is {(byte)welcome.TokenKind}; expected 0 (vectors) or 1 (ids).");
        }

        if (welcome.InputSize < 0 || welcome.OutputSize < 0)
        {
            throw Invalid(welcome, $"the input size is {welcome.InputSize} and the output size {welcome.OutputSize}; expected 0 or more.");
        }

        w.U16(welcome.Version);
        w.U8((byte)welcome.TokenKind);
        w.U32((uint)welcome.InputSize);
        w.U32((uint)welcome.OutputSize);
        w.U32((uint)welcome.Limits.MaxFrameBytes);
        w.U32((uint)welcome.Limits.MaxSessionsPerConnection);
        w.U32((uint)welcome.Limits.MaxTokensInFlightPerSession);
        w.U32((uint)welcome.Limits.IdleTimeout.TotalMilliseconds);
        String(ref w, welcome.Model, "model name", welcome);
    }

    private static void Error(ref FrameWriter w, ErrorFrame error, ProtocolLimits limits)
    {
        var carries = ErrorFrame.CarriesPosition(error.Code);
        if (carries != error.Position.HasValue)
        {
            throw Invalid(error, carries
                ? $"an Error with code {error.Code} carries the session's position; expected a Position."
                : $"an Error with code {error.Code} carries no position (only DuplicateToken (10), PositionAhead (11) and SessionUnavailable (14) do); found Position {error.Position}.");
        }

        if (error.Position is { } position)
        {
            Position(position, error);
        }

        if (error.Output is not null && error.Code != (ushort)SessionErrorCode.DuplicateToken)
        {
            throw Invalid(error, $"an Error with code {error.Code} carries no output (only DuplicateToken (10) may); found an Output.");
        }

        var outputBytes = error.Output is { } kept ? 4 + 4 * kept.Length : 0;
        var sessionBytes = SessionHeader(ref w, error, allowEmpty: true);
        w.U16(error.Code);
        ArgumentNullException.ThrowIfNull(error.Message);

        // An error must always be sendable: cut the message to the u16 length field and the frame size.
        // Lenient UTF-8 here: a lone surrogate in a message becomes U+FFFD rather than a second failure.
        var budget = Math.Max(0, Math.Min(ushort.MaxValue, limits.MaxFrameBytes - ErrorOverhead - sessionBytes - (carries ? 8 : 0) - outputBytes));
        var message = Encoding.UTF8.GetBytes(error.Message);
        var length = Math.Min(message.Length, budget);
        while (length < message.Length && length > 0 && (message[length] & 0xC0) == 0x80)
        {
            length--;
        }

        w.U16((ushort)length);
        w.Bytes(message.AsSpan(0, length));
        if (error.Position is { } at)
        {
            w.I64(at);
        }

        if (error.Output is { } output)
        {
            FloatVector(ref w, output.Span);
        }
    }

    private static void Status(ref FrameWriter w, StatusFrame status)
    {
        var milliseconds = Math.Floor(status.CheckTime.TotalMilliseconds);
        if (milliseconds is < 0 or > uint.MaxValue)
        {
            throw Invalid(status, $"the check time is {status.CheckTime}; expected 0 to {uint.MaxValue} ms.");
        }

        if (!double.IsFinite(status.Tolerance) || status.Tolerance < 0)
        {
            throw Invalid(status, $"the tolerance is {Show(status.Tolerance)}; expected a finite number, 0 or more.");
        }

        if (status.Kernels.Count > ushort.MaxValue)
        {
            throw Invalid(status, $"it carries {status.Kernels.Count} kernels; expected at most {ushort.MaxValue}.");
        }

        w.U64(status.Nonce);
        w.U8(status.Ready ? (byte)1 : (byte)0);
        String(ref w, status.Backend, "backend", status);
        String(ref w, status.Cpu, "cpu", status);
        w.U32((uint)milliseconds);
        w.F64(status.Tolerance);
        w.U16((ushort)status.Kernels.Count);
        for (var i = 0; i < status.Kernels.Count; i++)
        {
            Kernel(ref w, status, i);
        }
    }

    private static void Kernel(ref FrameWriter w, StatusFrame status, int index)
    {
        var kernel = status.Kernels[index] ?? throw Invalid(status, $"kernel {index} is null; expected a KernelStatus.");
        if (kernel.Layer is < 0 or > short.MaxValue)
        {
            throw Invalid(status, $"the layer of kernel {index} is {kernel.Layer}; expected 0 to {short.MaxValue}, or null for the head.");
        }

        if (double.IsNaN(kernel.MaxError) || kernel.MaxError < 0)
        {
            throw Invalid(status, $"the max error of kernel {index} is {Show(kernel.MaxError)}; expected 0 or more, or +infinity for a path that failed.");
        }

        if (!Enum.IsDefined(kernel.Verdict))
        {
            throw Invalid(status, $"the verdict of kernel {index} is {(byte)kernel.Verdict}; expected 0 (rejected), 1 (passed, not used) or 2 (chosen).");
        }

        w.I16((short)(kernel.Layer ?? -1));
        String(ref w, kernel.Role, $"role of kernel {index}", status);
        String(ref w, kernel.Path, $"path of kernel {index}", status);
        w.F64(kernel.MaxError);
        w.U8((byte)kernel.Verdict);
    }

    private static string Show(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static void Replay(ref FrameWriter w, ReplayFrame replay)
    {
        SessionHeader(ref w, replay);
        w.U8((byte)replay.Kind);
        w.U32((uint)replay.Steps);
        if (replay.Kind == TokenKind.Vectors)
        {
            w.U32((uint)replay.Width);
            w.Floats(replay.Inputs.Span);
        }
        else
        {
            w.Ints(replay.Ids.Span);
        }

        FloatVector(ref w, replay.H0.Span);
        FloatVector(ref w, replay.C0.Span);
    }

    private static void Generate(ref FrameWriter w, GenerateFrame generate)
    {
        SessionHeader(ref w, generate);
        var vectors = generate.PromptKind == TokenKind.Vectors;
        if (generate.MaxSteps < 0 || generate.TopK < 0 || generate.ReportTop is < 0 or > ushort.MaxValue || !Enum.IsDefined(generate.PromptKind)
            || (vectors && (generate.PromptWidth < 1 || generate.PromptInputs.Length % generate.PromptWidth != 0)))
        {
            throw Invalid(generate,
                $"maximum steps {generate.MaxSteps}, top-k {generate.TopK}, report top {generate.ReportTop}, prompt kind {(byte)generate.PromptKind}, prompt width {generate.PromptWidth} with {generate.PromptInputs.Length} float(s): expected counts of 0 or more, report top at most {ushort.MaxValue}, and for vectors a width of at least 1 that divides the floats.");
        }

        w.U32((uint)generate.MaxSteps);
        w.U8((byte)generate.PromptKind);
        w.U32((uint)generate.PromptSteps);
        if (vectors)
        {
            w.U32((uint)generate.PromptWidth);
            w.Floats(generate.PromptInputs.Span);
        }
        else
        {
            w.Ints(generate.PromptIds.Span);
        }

        w.U8(generate.Random ? (byte)1 : (byte)0);
        w.I64(generate.Seed);
        w.F64(generate.Temperature);
        w.U32((uint)generate.TopK);
        w.F64(generate.TopP);
        w.U16((ushort)generate.ReportTop);
        w.U32((uint)generate.StopIds.Length);
        w.Ints(generate.StopIds.Span);
    }

    private static void GenerationStep(ref FrameWriter w, GenerationStepFrame step)
    {
        SessionHeader(ref w, step);
        Position(step.Position, step);
        ArgumentNullException.ThrowIfNull(step.Top);
        var ids = step.Kind == TokenKind.Ids;
        if (step.Step < 0 || !Enum.IsDefined(step.Kind) || (ids && (step.Top.Count > ushort.MaxValue || !IsProbability(step.Probability) || step.Top.Any(t => t is null || !IsProbability(t.Probability)))))
        {
            throw Invalid(step, $"step {step.Step} of kind {(byte)step.Kind} with probability {Show(step.Probability)} and {step.Top.Count} top entries: expected a step of 0 or more, kind 0 or 1, probabilities 0 to 1 and at most {ushort.MaxValue} entries.");
        }

        w.U32((uint)step.Step);
        w.I64(step.Position);
        w.U8((byte)step.Kind);
        if (!ids)
        {
            FloatVector(ref w, step.Output.Span);
            return;
        }

        w.I32(step.TokenId);
        w.F64(step.Probability);
        w.U16((ushort)step.Top.Count);
        foreach (var entry in step.Top)
        {
            w.I32(entry.TokenId);
            w.F64(entry.Probability);
        }
    }

    private static bool IsProbability(double value) => value is >= 0 and <= 1;

    private static void ReplayOutputs(ref FrameWriter w, ReplayOutputsFrame outputs)
    {
        SessionHeader(ref w, outputs);
        Position(outputs.Position, outputs);
        if (outputs.Steps < 0 || outputs.Width < 1 || (long)outputs.Steps * outputs.Width != outputs.Outputs.Length)
        {
            throw Invalid(outputs,
                $"{outputs.Steps} step(s) of width {outputs.Width} do not describe {outputs.Outputs.Length} float(s); expected steps >= 0, width >= 1 and steps x width floats.");
        }

        w.I64(outputs.Position);
        w.U32((uint)outputs.Steps);
        w.U32((uint)outputs.Width);
        w.Floats(outputs.Outputs.Span);
    }

    /// <summary>Writes sequence and session id; returns the id's UTF-8 byte count.</summary>
    private static int SessionHeader(ref FrameWriter w, SessionFrame frame, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(frame.Session);
        int count;
        try
        {
            count = StrictUtf8.GetByteCount(frame.Session);
        }
        catch (EncoderFallbackException)
        {
            throw new ProtocolException(ProtocolErrorCode.InvalidSessionId,
                $"cannot encode {Describe(frame)}: the session id is not valid Unicode (a lone surrogate).", null, frame.Sequence);
        }

        if (count > FrameCodec.MaxSessionIdBytes || (count == 0 && !allowEmpty))
        {
            throw new ProtocolException(ProtocolErrorCode.InvalidSessionId,
                $"cannot encode {Describe(frame)}: the session id is {count} UTF-8 byte(s); expected 1 to {FrameCodec.MaxSessionIdBytes}.",
                null, frame.Sequence);
        }

        w.U64(frame.Sequence);
        w.U8((byte)count);
        w.Utf8(frame.Session, count, StrictUtf8);
        return count;
    }

    private static void String(ref FrameWriter w, string value, string what, Frame frame)
    {
        ArgumentNullException.ThrowIfNull(value, what);
        int count;
        try
        {
            count = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            throw Invalid(frame, $"the {what} is not valid Unicode (a lone surrogate).");
        }

        if (count > ushort.MaxValue)
        {
            throw Invalid(frame, $"the {what} is {count} UTF-8 bytes; expected at most {ushort.MaxValue}.");
        }

        w.U16((ushort)count);
        w.Utf8(value, count, StrictUtf8);
    }

    private static void FloatVector(ref FrameWriter w, ReadOnlySpan<float> values)
    {
        w.U32((uint)values.Length);
        w.Floats(values);
    }

    private static void ByteBlock(ref FrameWriter w, ReadOnlySpan<byte> bytes)
    {
        w.U32((uint)bytes.Length);
        w.Bytes(bytes);
    }

    private static void Position(long position, SessionFrame frame)
    {
        if (position < 0)
        {
            throw Invalid(frame, $"the position is {position}; expected 0 or more.");
        }
    }

    private static ProtocolException Invalid(Frame frame, string problem) =>
        new(ProtocolErrorCode.MalformedFrame, $"cannot encode {Describe(frame)}: {problem}",
            (frame as SessionFrame)?.Session, (frame as SessionFrame)?.Sequence);

    private static string Describe(Frame frame) => frame is SessionFrame s
        ? $"{frame.Type} frame for session '{s.Session}' (sequence {s.Sequence})"
        : $"{frame.Type} frame";
}

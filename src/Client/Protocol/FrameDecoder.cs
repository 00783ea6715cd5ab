namespace Streaming.Client.Protocol;

/// <summary>The body layout of every frame type, read side; docs/protocol.md has the same layouts as tables.</summary>
internal static class FrameDecoder
{
    /// <summary>The fewest bytes one kernel entry of a Status takes: layer, two empty strings, max error, verdict.</summary>
    private const int MinKernelBytes = 2 + 2 + 2 + 8 + 1;

    public static bool IsKnown(byte type) => type is >= 0x01 and <= 0x07 or >= 0x10 and <= 0x18 or >= 0x20 and <= 0x25;

    /// <summary>Decodes the body (the bytes after the type byte) of a frame of a known type.</summary>
    public static Frame Body(FrameType type, ReadOnlySpan<byte> body)
    {
        if (type == FrameType.Hello)
        {
            return Hello(body);
        }

        var reader = new FrameReader(body, type);
        Frame frame = type switch
        {
            FrameType.Welcome => Welcome(ref reader),
            FrameType.Ping => new PingFrame(reader.U64("nonce")),
            FrameType.Pong => new PongFrame(reader.U64("nonce")),
            FrameType.Error => Error(ref reader),
            FrameType.StatusRequest => new StatusRequestFrame(reader.U64("nonce")),
            FrameType.Status => Status(ref reader),
            FrameType.Open => Open(ref reader),
            FrameType.Token => Token(ref reader),
            FrameType.SnapshotRequest => Header(ref reader, (s, q) => new SnapshotRequestFrame(s, q)),
            FrameType.Restore => Restore(ref reader),
            FrameType.Replay => Replay(ref reader),
            FrameType.Reset => Header(ref reader, (s, q) => new ResetFrame(s, q)),
            FrameType.Close => Header(ref reader, (s, q) => new CloseFrame(s, q)),
            FrameType.Output => Output(ref reader),
            FrameType.SnapshotReply => SnapshotReply(ref reader),
            FrameType.ReplayOutputs => ReplayOutputs(ref reader),
            FrameType.Ack => Ack(ref reader),
            FrameType.Generate => Generate(ref reader),
            FrameType.CancelGeneration => Header(ref reader, (s, q) => new CancelGenerationFrame(s, q)),
            FrameType.GenerationStep => GenerationStep(ref reader),
            FrameType.GenerationEnd => GenerationEnd(ref reader),
            _ => throw new ProtocolException(ProtocolErrorCode.UnknownFrameType, $"frame type {type} has no decoder."),
        };
        reader.End();
        return frame;
    }

    private static HelloFrame Hello(ReadOnlySpan<byte> body)
    {
        // Every Hello problem is a bad handshake: the peer may not speak this protocol at all.
        if (body.Length != 6)
        {
            throw new ProtocolException(ProtocolErrorCode.BadHandshake,
                $"Hello frame: {body.Length} byte(s) follow the type byte; expected 6 (magic 'RNNP' and a u16 version).");
        }

        if (!body[..4].SequenceEqual(FrameCodec.Magic.Span))
        {
            throw new ProtocolException(ProtocolErrorCode.BadHandshake,
                $"Hello frame: the magic is {Convert.ToHexString(body[..4])}; expected 524E4E50 ('RNNP').");
        }

        return new HelloFrame((ushort)(body[4] | (body[5] << 8)));
    }

    private static WelcomeFrame Welcome(ref FrameReader reader)
    {
        var version = reader.U16("version");
        var kind = reader.Kind("token kind");
        var inputSize = reader.Count("input size");
        var outputSize = reader.Count("output size");
        var limits = new ProtocolLimits
        {
            MaxFrameBytes = reader.Count("maximum frame size"),
            MaxSessionsPerConnection = reader.Count("maximum sessions per connection"),
            MaxTokensInFlightPerSession = reader.Count("maximum tokens in flight per session"),
            IdleTimeout = TimeSpan.FromMilliseconds(reader.U32("idle timeout")),
        };
        if (limits.Problem() is { } problem)
        {
            throw reader.Malformed("the limits are invalid: " + problem.Message);
        }

        var model = reader.String("model name");
        return new WelcomeFrame(version, model, kind, inputSize, outputSize, limits);
    }

    private static ErrorFrame Error(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: true);
        var code = reader.U16("error code");
        var message = reader.String("message");
        var frame = new ErrorFrame(reader.Session!, reader.Sequence!.Value, code, message);
        if (ErrorFrame.CarriesPosition(code))
        {
            frame = frame with { Position = reader.Position("session position") };
            // A DuplicateToken may carry the token's original output after the position; nothing else follows it.
            return code == (ushort)SessionErrorCode.DuplicateToken && reader.Remaining != 0
                ? frame with { Output = reader.FloatVector("original output") }
                : frame;
        }

        if (reader.Remaining != 0)
        {
            throw reader.Malformed($"{reader.Remaining} byte(s) follow the message of an Error with code {code}; only DuplicateToken (10), PositionAhead (11) and SessionUnavailable (14) carry a position after it.");
        }

        return frame;
    }

    private static StatusFrame Status(ref FrameReader reader)
    {
        var nonce = reader.U64("nonce");
        var ready = reader.U8("ready flag") switch
        {
            0 => false,
            1 => true,
            var other => throw reader.Malformed($"the ready flag is {other}; expected 0 (not ready) or 1 (ready)."),
        };
        var backend = reader.String("backend");
        var cpu = reader.String("cpu");
        var checkTime = TimeSpan.FromMilliseconds(reader.U32("check milliseconds"));
        var tolerance = reader.F64("tolerance");
        if (!double.IsFinite(tolerance) || tolerance < 0)
        {
            throw reader.Malformed($"the tolerance is {Show(tolerance)}; expected a finite number, 0 or more.");
        }

        int count = reader.U16("kernel count");
        if (count > reader.Remaining / MinKernelBytes)
        {
            throw reader.Malformed($"the kernel count is {count}, which needs at least {count * MinKernelBytes} byte(s) ({MinKernelBytes} per kernel), but only {reader.Remaining} remain.");
        }

        var kernels = new KernelStatus[count];
        for (var i = 0; i < count; i++)
        {
            kernels[i] = Kernel(ref reader, i);
        }

        return new StatusFrame(nonce, ready, backend, cpu, checkTime, tolerance, kernels);
    }

    private static KernelStatus Kernel(ref FrameReader reader, int index)
    {
        var layer = reader.I16($"layer of kernel {index}");
        if (layer < -1)
        {
            throw reader.Malformed($"the layer of kernel {index} is {layer}; expected -1 (the head) or 0 and up.");
        }

        var role = reader.String($"role of kernel {index}");
        var path = reader.String($"path of kernel {index}");
        var error = reader.F64($"max error of kernel {index}");
        if (double.IsNaN(error) || error < 0)
        {
            throw reader.Malformed($"the max error of kernel {index} is {Show(error)}; expected 0 or more, or +infinity for a path that failed.");
        }

        var verdict = reader.U8($"verdict of kernel {index}");
        if (verdict > (byte)KernelVerdict.Chosen)
        {
            throw reader.Malformed($"the verdict of kernel {index} is {verdict}; expected 0 (rejected), 1 (passed, not used) or 2 (chosen).");
        }

        return new KernelStatus(layer == -1 ? null : layer, role, path, error, (KernelVerdict)verdict);
    }

    private static string Show(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static T Header<T>(ref FrameReader reader, Func<string, ulong, T> create)
    {
        reader.SessionHeader(allowEmpty: false);
        return create(reader.Session!, reader.Sequence!.Value);
    }

    private static OpenFrame Open(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var model = reader.String("model name");
        var h0 = reader.FloatVector("h0");
        var c0 = reader.FloatVector("c0");
        return new OpenFrame(reader.Session!, reader.Sequence!.Value, model, h0, c0);
    }

    private static TokenFrame Token(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var frame = reader.Kind("token kind") == TokenKind.Vectors
            ? TokenFrame.OfVector(reader.Session!, reader.Sequence!.Value, reader.FloatVector("vector"))
            : TokenFrame.OfId(reader.Session!, reader.Sequence!.Value, reader.I32("token id"));
        return reader.Remaining switch
        {
            0 => frame,
            8 => frame with { Position = reader.Position("token position") },
            var left => throw reader.Malformed($"{left} byte(s) follow the token; expected none, or 8 (an i64 position)."),
        };
    }

    private static RestoreFrame Restore(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        return new RestoreFrame(reader.Session!, reader.Sequence!.Value, reader.ByteBlock("snapshot"));
    }

    private static SnapshotReplyFrame SnapshotReply(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        return new SnapshotReplyFrame(reader.Session!, reader.Sequence!.Value, reader.ByteBlock("snapshot"));
    }

    private static ReplayFrame Replay(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var kind = reader.Kind("input kind");
        var steps = reader.Count("step count");
        ReplayFrame frame;
        if (kind == TokenKind.Vectors)
        {
            var width = Width(ref reader, "input width");
            var inputs = reader.Floats((ulong)steps * (ulong)width, $"inputs ({steps} step(s) x {width})");
            frame = ReplayFrame.OfVectors(reader.Session!, reader.Sequence!.Value, steps, width, inputs);
        }
        else
        {
            frame = ReplayFrame.OfIds(reader.Session!, reader.Sequence!.Value, reader.Ints((ulong)steps, "token ids"));
        }

        var h0 = reader.FloatVector("h0");
        var c0 = reader.FloatVector("c0");
        return frame with { H0 = h0, C0 = c0 };
    }

    private static OutputFrame Output(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var position = reader.Position("position");
        return new OutputFrame(reader.Session!, reader.Sequence!.Value, position, reader.FloatVector("output"));
    }

    private static ReplayOutputsFrame ReplayOutputs(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var position = reader.Position("position");
        var steps = reader.Count("step count");
        var width = Width(ref reader, "output width");
        var outputs = reader.Floats((ulong)steps * (ulong)width, $"outputs ({steps} step(s) x {width})");
        return new ReplayOutputsFrame(reader.Session!, reader.Sequence!.Value, position, steps, width, outputs);
    }

    private static AckFrame Ack(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var acknowledged = reader.U8("acknowledged frame type");
        if (!FrameCodec.IsAcknowledgeable(acknowledged))
        {
            throw reader.Malformed($"the acknowledged frame type is 0x{acknowledged:X2}; expected Open (0x10), Restore (0x13), Reset (0x15) or Close (0x16).");
        }

        return new AckFrame(reader.Session!, reader.Sequence!.Value, (FrameType)acknowledged);
    }

    private static GenerateFrame Generate(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var frame = new GenerateFrame(reader.Session!, reader.Sequence!.Value, reader.Count("maximum steps"));
        var kind = reader.Kind("prompt kind");
        var steps = reader.Count("prompt step count");
        if (kind == TokenKind.Vectors)
        {
            var width = Width(ref reader, "prompt width");
            var inputs = reader.Floats((ulong)steps * (ulong)width, $"prompt ({steps} step(s) x {width})");
            frame = frame with { PromptKind = kind, PromptWidth = width, PromptInputs = inputs };
        }
        else
        {
            frame = frame with { PromptKind = kind, PromptIds = reader.Ints((ulong)steps, "prompt ids") };
        }

        var random = reader.U8("sampling") switch
        {
            0 => false,
            1 => true,
            var other => throw reader.Malformed($"the sampling is {other}; expected 0 (greedy) or 1 (random)."),
        };
        return frame with
        {
            Random = random,
            Seed = reader.I64("seed"),
            Temperature = reader.F64("temperature"),
            TopK = reader.Count("top-k"),
            TopP = reader.F64("top-p"),
            ReportTop = reader.U16("report top"),
            StopIds = reader.Ints(reader.U32("stop id count"), "stop ids"),
        };
    }

    private static GenerationStepFrame GenerationStep(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var frame = new GenerationStepFrame(reader.Session!, reader.Sequence!.Value, reader.Count("step"), reader.Position("position"));
        if (reader.Kind("step kind") == TokenKind.Vectors)
        {
            return frame with { Kind = TokenKind.Vectors, Output = reader.FloatVector("output") };
        }

        var id = reader.I32("token id");
        var probability = Probability(ref reader, "probability");
        int count = reader.U16("top count");
        if (count > reader.Remaining / 12)
        {
            throw reader.Malformed($"the top count is {count}, which needs {count * 12} byte(s) (12 per entry), but only {reader.Remaining} remain.");
        }

        var top = new TokenProbability[count];
        for (var i = 0; i < count; i++)
        {
            top[i] = new TokenProbability(reader.I32($"id of top entry {i}"), Probability(ref reader, $"probability of top entry {i}"));
        }

        return frame with { TokenId = id, Probability = probability, Top = top };
    }

    private static double Probability(ref FrameReader reader, string what)
    {
        var value = reader.F64(what);
        if (!(value is >= 0 and <= 1))
        {
            throw reader.Malformed($"the {what} is {Show(value)}; expected 0 to 1.");
        }

        return value;
    }

    private static GenerationEndFrame GenerationEnd(ref FrameReader reader)
    {
        reader.SessionHeader(allowEmpty: false);
        var reason = reader.U8("reason");
        if (reason > (byte)GenerationEndReason.Interrupted)
        {
            throw reader.Malformed($"the reason is {reason}; expected 0 (stop id), 1 (max steps), 2 (cancelled) or 3 (interrupted).");
        }

        return new GenerationEndFrame(reader.Session!, reader.Sequence!.Value, (GenerationEndReason)reason, reader.Count("step count"), reader.Position("position"));
    }

    private static int Width(ref FrameReader reader, string what)
    {
        var width = reader.Count(what);
        if (width == 0)
        {
            // A zero width would let a tiny frame declare billions of steps.
            throw reader.Malformed($"the {what} is 0; expected at least 1 float per step.");
        }

        return width;
    }
}

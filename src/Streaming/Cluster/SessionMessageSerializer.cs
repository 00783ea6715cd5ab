using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace Streaming.Cluster;

/// <summary>
/// Serializes the messages of <see cref="ShardedSessions"/> between nodes in a compact binary form, floats bit for
/// bit (little-endian IEEE 754, NaN payloads included): commands, outputs, replay results, snapshots (through
/// <see cref="SessionSnapshot.ToBytes"/>) and refusals (code, message, session, position). The HOCON of
/// <see cref="ClusterConfig"/> binds it; a node configured by hand binds it the same way.
/// </summary>
public sealed class SessionMessageSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer's identifier, unique in the actor system (Akka reserves 0 to 100).</summary>
    public const int SerializerId = 7701;

    private const string Open = "o", Push = "p", Snapshot = "s", Restore = "r", Replay = "y", Reset = "z", Close = "c",
        Done = "D", Output = "O", Snapshotted = "S", Replayed = "Y", Error = "E", Duplicate = "F", HandOff = "H", Stop = "X";

    /// <summary>Creates the serializer; Akka calls this with the actor system.</summary>
    public SessionMessageSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        OpenCommand => Open,
        PushCommand => Push,
        SnapshotCommand => Snapshot,
        RestoreCommand => Restore,
        ReplayCommand => Replay,
        ResetCommand => Reset,
        CloseCommand => Close,
        DoneReply => Done,
        OutputReply => Output,
        SnapshotReply => Snapshotted,
        ReplayReply => Replayed,
        ErrorReply { Output: not null } => Duplicate,
        ErrorReply => Error,
        HandOffSession => HandOff,
        StopClosedSession => Stop,
        _ => throw new ArgumentException($"SessionMessageSerializer cannot serialize {o?.GetType().FullName ?? "null"}; it serializes the sharded sessions' messages only.", nameof(o)),
    };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        _ = Manifest(obj); // refuses a message that is not ours
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            Write(writer, obj);
        }

        return stream.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        try
        {
            var message = Read(reader, manifest);
            if (reader.BaseStream.Position != bytes.Length)
            {
                throw new SerializationException($"a '{manifest}' message has {bytes.Length - reader.BaseStream.Position} bytes left over after its end.");
            }

            return message;
        }
        catch (EndOfStreamException)
        {
            throw new SerializationException($"a '{manifest}' message of {bytes.Length} bytes ends early.");
        }
    }

    private static void Write(BinaryWriter w, object message)
    {
        switch (message)
        {
            case SessionCommand command:
                w.Write(command.RequestId);
                break;
            case SessionReply reply:
                w.Write(reply.RequestId);
                break;
        }

        switch (message)
        {
            case OpenCommand open:
                w.Write(open.SessionId);
                WriteState(w, open.InitialState);
                break;
            case PushCommand push:
                w.Write(push.SessionId);
                WriteToken(w, push.Token);
                break;
            case SnapshotCommand snapshot:
                w.Write(snapshot.SessionId);
                break;
            case RestoreCommand restore:
                w.Write(restore.SessionId);
                WriteBytes(w, restore.Snapshot.ToBytes());
                break;
            case ReplayCommand replay:
                w.Write(replay.SessionId);
                w.Write(replay.Inputs.Count);
                foreach (var token in replay.Inputs)
                {
                    WriteToken(w, token);
                }

                WriteState(w, replay.From);
                break;
            case ResetCommand reset:
                w.Write(reset.SessionId);
                break;
            case CloseCommand close:
                w.Write(close.SessionId);
                break;
            case DoneReply done:
                w.Write(done.SessionId);
                break;
            case OutputReply output:
                w.Write(output.Output.SessionId);
                w.Write(output.Output.Position);
                WriteFloats(w, output.Output.Output.Span);
                break;
            case SnapshotReply snapshot:
                WriteBytes(w, snapshot.Snapshot.ToBytes());
                break;
            case ReplayReply replayed:
                w.Write(replayed.Result.SessionId);
                w.Write(replayed.Result.Position);
                w.Write(replayed.Result.Outputs.Count);
                foreach (var step in replayed.Result.Outputs)
                {
                    WriteFloats(w, step.Span);
                }

                break;
            case ErrorReply error:
                w.Write((int)error.Code);
                w.Write(error.Message);
                WriteOptional(w, error.SessionId);
                w.Write(error.Position.HasValue);
                w.Write(error.Position.GetValueOrDefault());
                if (error.Output is { } original)
                {
                    // Its own manifest ("F"), so an Error without an output keeps the layout of earlier versions.
                    w.Write(original.Position);
                    WriteFloats(w, original.Output.Span);
                }

                break;
            case HandOffSession or StopClosedSession:
                break;
        }
    }

    private static object Read(BinaryReader r, string manifest) => manifest switch
    {
        HandOff => HandOffSession.Instance,
        Stop => StopClosedSession.Instance,
        Open or Push or Snapshot or Restore or Replay or Reset or Close or Done or Output or Snapshotted or Replayed or Error or Duplicate => ReadNumbered(r, manifest, r.ReadInt64()),
        _ => throw new SerializationException($"unknown manifest '{manifest}'; SessionMessageSerializer knows {string.Join(", ", new[] { Open, Push, Snapshot, Restore, Replay, Reset, Close, Done, Output, Snapshotted, Replayed, Error, Duplicate, HandOff, Stop })}."),
    };

    private static object ReadNumbered(BinaryReader r, string manifest, long requestId) => ReadBody(r, manifest) switch
    {
        SessionCommand command => command with { RequestId = requestId },
        SessionReply reply => reply with { RequestId = requestId },
        var other => other,
    };

    private static object ReadBody(BinaryReader r, string manifest) => manifest switch
    {
        Open => new OpenCommand(r.ReadString(), ReadState(r)),
        Push => new PushCommand(r.ReadString(), ReadToken(r)),
        Snapshot => new SnapshotCommand(r.ReadString()),
        Restore => new RestoreCommand(r.ReadString(), ReadSnapshot(r)),
        Replay => ReadReplay(r),
        Reset => new ResetCommand(r.ReadString()),
        Close => new CloseCommand(r.ReadString()),
        Done => new DoneReply(r.ReadString()),
        Output => new OutputReply(new TokenOutput(r.ReadString(), r.ReadInt64(), ReadFloats(r))),
        Snapshotted => new SnapshotReply(ReadSnapshot(r)),
        Replayed => ReadReplayed(r),
        Duplicate => ReadDuplicate(r),
        _ => ReadError(r),
    };

    private static ErrorReply ReadDuplicate(BinaryReader r)
    {
        var error = ReadError(r);
        var position = r.ReadInt64();
        return error with { Output = new TokenOutput(error.SessionId ?? "", position, ReadFloats(r)) };
    }

    private static ReplayCommand ReadReplay(BinaryReader r)
    {
        var sessionId = r.ReadString();
        var count = ReadCount(r, 1);
        var inputs = new Token[count];
        for (var t = 0; t < count; t++)
        {
            inputs[t] = ReadToken(r);
        }

        return new ReplayCommand(sessionId, inputs, ReadState(r));
    }

    private static ReplayReply ReadReplayed(BinaryReader r)
    {
        var sessionId = r.ReadString();
        var position = r.ReadInt64();
        var count = ReadCount(r, 4);
        var outputs = new ReadOnlyMemory<float>[count];
        for (var t = 0; t < count; t++)
        {
            outputs[t] = ReadFloats(r);
        }

        return new ReplayReply(new ReplayResult(sessionId, position, outputs));
    }

    private static ErrorReply ReadError(BinaryReader r)
    {
        var code = (EngineErrorCode)r.ReadInt32();
        var message = r.ReadString();
        var sessionId = ReadOptional(r);
        var hasPosition = r.ReadBoolean();
        var position = r.ReadInt64();
        return new ErrorReply(code, message, sessionId, hasPosition ? position : null);
    }

    // Token: flags (1 = id, 2 = has At), then At, then the id or the vector.
    private static void WriteToken(BinaryWriter w, Token token)
    {
        w.Write((byte)((token.IsId ? 1 : 0) | (token.At.HasValue ? 2 : 0)));
        if (token.At is { } at)
        {
            w.Write(at);
        }

        if (token.IsId)
        {
            w.Write(token.TokenId);
        }
        else
        {
            WriteFloats(w, token.Values.Span);
        }
    }

    private static Token ReadToken(BinaryReader r)
    {
        var flags = r.ReadByte();
        if ((flags & ~3) != 0)
        {
            throw new SerializationException($"a token has the flags {flags}; expected 0 to 3.");
        }

        long? at = (flags & 2) != 0 ? r.ReadInt64() : null;
        var token = (flags & 1) != 0 ? Token.Id(r.ReadInt32()) : Token.Vector(ReadFloats(r));
        return at is null ? token : token with { At = at };
    }

    private static void WriteState(BinaryWriter w, InitialState? state)
    {
        w.Write(state is not null);
        if (state is not null)
        {
            WriteFloats(w, state.H0.Span);
            WriteFloats(w, state.C0.Span);
        }
    }

    private static InitialState? ReadState(BinaryReader r) => r.ReadBoolean() ? new InitialState(ReadFloats(r), ReadFloats(r)) : null;

    private static SessionSnapshot ReadSnapshot(BinaryReader r)
    {
        var length = ReadCount(r, 1);
        return SessionSnapshot.FromBytes(r.ReadBytes(length));
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static void WriteFloats(BinaryWriter w, ReadOnlySpan<float> values)
    {
        w.Write(values.Length);
        foreach (var value in values)
        {
            w.Write(value);
        }
    }

    private static float[] ReadFloats(BinaryReader r)
    {
        var values = new float[ReadCount(r, sizeof(float))];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadSingle();
        }

        return values;
    }

    private static void WriteOptional(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    // A count is checked against the bytes left before anything is allocated for it.
    private static int ReadCount(BinaryReader r, int bytesEach)
    {
        var count = r.ReadInt32();
        var left = r.BaseStream.Length - r.BaseStream.Position;
        if (count < 0 || (long)count * bytesEach > left)
        {
            throw new SerializationException($"a count of {count} does not fit the {left} bytes left in the message.");
        }

        return count;
    }
}

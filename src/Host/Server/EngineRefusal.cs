using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>The engine's refusals in the protocol: an <see cref="EngineException"/> becomes the Error frame that reports it.</summary>
internal static class EngineRefusal
{
    /// <summary>
    /// The Error frame that reports the engine's refusal of the frame <paramref name="sequence"/> of
    /// <paramref name="session"/>, with the session's position for DuplicateToken and PositionAhead. The engine's codes
    /// are the protocol's <see cref="SessionErrorCode"/> numbers.
    /// </summary>
    public static ErrorFrame Frame(string session, ulong sequence, EngineException error)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(error);
        if (!ErrorFrame.CarriesPosition((ushort)error.Code))
        {
            return new ErrorFrame(session, sequence, (ushort)error.Code, error.Message);
        }

        // The engine always sets it for these codes; the frame cannot carry the code without it.
        return error.Position is { } position and >= 0
            ? new ErrorFrame(session, sequence, (ushort)error.Code, error.Message) { Position = position }
            : new ErrorFrame(session, sequence, (ushort)ProtocolErrorCode.InternalError,
                $"the engine refused the frame with {error.Code} but gave no valid session position ({error.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}): {error.Message}");
    }
}

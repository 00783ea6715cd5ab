namespace Streaming.Client.Protocol;

/// <summary>
/// Stops the session's generation that the Generate frame of <see cref="SessionFrame.Sequence"/> started, at its next
/// step: every step already sent stays valid, and the generation ends with a <see cref="GenerationEndFrame"/> of reason
/// <see cref="GenerationEndReason.Cancelled"/> (or its own end, when that came first). It gets no reply of its own; one
/// that names no running generation of this connection is ignored.
/// </summary>
/// <param name="Session">The generating session.</param>
/// <param name="Sequence">The sequence number of the Generate frame to stop.</param>
public sealed record CancelGenerationFrame(string Session, ulong Sequence) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.CancelGeneration;
}

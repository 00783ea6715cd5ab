namespace Streaming.Client.Protocol;

/// <summary>
/// Asks the server to generate in a session (docs/generation.md): it consumes the prompt, then feeds each step's output
/// back until a stop id, <see cref="MaxSteps"/> steps, or a <see cref="CancelGenerationFrame"/>. Answered by one
/// <see cref="GenerationStepFrame"/> per step as soon as it is computed, then one <see cref="GenerationEndFrame"/>; or
/// by one Error (a refused request, or a failure between steps). The codec carries the sampling values bit for bit:
/// the engine checks their ranges and names the field it refuses.
/// </summary>
/// <param name="Session">The session, open already.</param>
/// <param name="Sequence">The client's sequence number; every step and the end echo it.</param>
/// <param name="MaxSteps">Steps to generate at most (the engine allows 1 to 65,536).</param>
public sealed record GenerateFrame(string Session, ulong Sequence, int MaxSteps) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Generate;

    /// <summary>Whether the prompt is vectors or ids; ids by default.</summary>
    public TokenKind PromptKind { get; init; } = TokenKind.Ids;

    /// <summary>The prompt's ids (kind ids); empty: generate from the session's last output.</summary>
    public ReadOnlyMemory<int> PromptIds { get; init; }

    /// <summary>Floats per prompt step (kind vectors, at least 1); 0 for ids.</summary>
    public int PromptWidth { get; init; }

    /// <summary>The prompt's vectors (kind vectors), (steps, width) row-major.</summary>
    public ReadOnlyMemory<float> PromptInputs { get; init; }

    /// <summary>False: greedy (the sampling values below are then not used); true: drawn with <see cref="Seed"/>.</summary>
    public bool Random { get; init; }

    /// <summary>The random stream's key.</summary>
    public long Seed { get; init; }

    /// <summary>Logits are divided by it before the softmax; default 1.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Only the k most probable ids may be drawn; 0: every id.</summary>
    public int TopK { get; init; }

    /// <summary>Only the smallest set of most probable ids whose probability reaches it may be drawn; default 1.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Ids that end the generation once generated.</summary>
    public ReadOnlyMemory<int> StopIds { get; init; }

    /// <summary>How many of the most probable ids each step reports (the engine allows 0 to 64).</summary>
    public int ReportTop { get; init; }

    /// <summary>The number of prompt steps.</summary>
    public int PromptSteps => PromptKind == TokenKind.Ids ? PromptIds.Length : PromptWidth == 0 ? 0 : PromptInputs.Length / PromptWidth;
}

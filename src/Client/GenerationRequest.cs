namespace Streaming.Client;

/// <summary>
/// What <see cref="StreamingClient.GenerateAsync"/> asks the server for (the engine's request of the same name): consume
/// <see cref="Prompt"/>, then feed each step's output back until a stop id, <see cref="MaxSteps"/> steps, or cancellation.
/// </summary>
/// <param name="MaxSteps">Steps to generate at most; the server allows 1 to 65,536.</param>
public sealed record GenerationRequest(int MaxSteps)
{
    /// <summary>Tokens consumed before the first generated step (all ids, or all vectors of one width); empty: generate from the session's last output.</summary>
    public IReadOnlyList<TokenInput> Prompt { get; init; } = [];

    /// <summary>How each id is picked; greedy by default.</summary>
    public SamplingRule Sampling { get; init; } = SamplingRule.Greedy;

    /// <summary>Ids that end the generation once generated.</summary>
    public IReadOnlyList<int> StopIds { get; init; } = [];

    /// <summary>How many of the most probable ids each step reports (the server allows 0 to 64).</summary>
    public int ReportTop { get; init; }

    /// <summary>A request for at most <paramref name="maxSteps"/> greedy steps after the ids <paramref name="prompt"/>.</summary>
    public static GenerationRequest Of(int maxSteps, params int[] prompt) => new(maxSteps) { Prompt = prompt.Select(TokenInput.Id).ToArray() };
}

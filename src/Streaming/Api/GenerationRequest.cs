namespace Streaming;

/// <summary>
/// What a generation does (see <see cref="IGenerationService.GenerateAsync"/>): it consumes <see cref="Prompt"/>, then
/// feeds each step's output back as the next input (the sampled id for a model with an embedding and a head, the
/// output vector for a model whose output size equals its input size) until a stop id is generated,
/// <see cref="MaxSteps"/> steps are done, or it is cancelled. Create one with <see cref="Of"/> and refine it with
/// <c>with</c>.
/// </summary>
/// <param name="MaxSteps">Steps to generate at most: 1 to <see cref="MaxStepsLimit"/>.</param>
public sealed record GenerationRequest(int MaxSteps)
{
    /// <summary>The most steps one generation may take (each step's record is kept until the consumer reads it).</summary>
    public const int MaxStepsLimit = 65_536;

    /// <summary>The most ids <see cref="ReportTop"/> may ask for per step.</summary>
    public const int ReportTopLimit = 64;

    /// <summary>Tokens consumed before the first generated step, as if pushed; empty: generate from the session's last output.</summary>
    public IReadOnlyList<Token> Prompt { get; init; } = [];

    /// <summary>How each id is picked; <see cref="SamplingRule.Greedy"/> by default. Vector models take greedy only.</summary>
    public SamplingRule Sampling { get; init; } = SamplingRule.Greedy;

    /// <summary>Ids that end the generation once generated (the stop id is emitted and consumed like any other).</summary>
    public IReadOnlyList<int> StopIds { get; init; } = [];

    /// <summary>How many of the most probable ids each step reports with their probabilities (0 to <see cref="ReportTopLimit"/>); default 0.</summary>
    public int ReportTop { get; init; }

    /// <summary>A request for at most <paramref name="maxSteps"/> greedy steps after <paramref name="prompt"/>.</summary>
    public static GenerationRequest Of(int maxSteps, params Token[] prompt) => new(maxSteps) { Prompt = prompt };
}

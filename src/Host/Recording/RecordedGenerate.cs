using Streaming.Client.Protocol;

namespace Streaming.Host.Recording;

/// <summary>
/// <c>{"session":"g","op":"generate","prompt_tokens":[3,1,4],"max_steps":20,"sampling":"random","seed":7,"top_k":40,
/// "stop_ids":[0],"expect_tokens":[5,9,0],"expect_probabilities":[0.4,0.2,0.1],"expect_end":"stop_id"}</c>: a generation
/// (docs/generation.md) from the session's state, and what it must produce. Format rnn-recording/2 and later.
/// </summary>
/// <param name="Line">The line it was read from (0 when built to be written).</param>
/// <param name="Session">The session id.</param>
/// <param name="MaxSteps">Steps to generate at most, as requested (the server allows 1 to 65,536; 0 or more in the file).</param>
public sealed record RecordedGenerate(int Line, string Session, int MaxSteps) : RecordedOperation(Line, Session)
{
    /// <inheritdoc/>
    public override string Op => "generate";

    /// <summary>A prompt of ids (<c>prompt_tokens</c>); empty when there is none or it is <see cref="PromptInputs"/>.</summary>
    public ReadOnlyMemory<int> PromptTokens { get; init; }

    /// <summary>A prompt of vectors (<c>prompt_inputs</c>), one row per step; null when there is none or it is <see cref="PromptTokens"/>.</summary>
    public FloatMatrix? PromptInputs { get; init; }

    /// <summary>Prompt steps (0: generate from the session's last output).</summary>
    public int PromptSteps => PromptInputs?.Rows ?? PromptTokens.Length;

    /// <summary>How each id is picked; greedy by default.</summary>
    public Client.SamplingRule Sampling { get; init; } = Client.SamplingRule.Greedy;

    /// <summary>Ids that end the generation once generated.</summary>
    public ReadOnlyMemory<int> StopIds { get; init; }

    /// <summary>The ids it must generate, in order (<c>expect_tokens</c>), or null.</summary>
    public ReadOnlyMemory<int>? ExpectTokens { get; init; }

    /// <summary>The vectors it must feed back, one row per step, for a model without ids (<c>expect_outputs</c>), or null.</summary>
    public FloatMatrix? ExpectOutputs { get; init; }

    /// <summary>The model's probability of each expected id (<c>expect_probabilities</c>), or null.</summary>
    public ReadOnlyMemory<float>? ExpectProbabilities { get; init; }

    /// <summary>How it must end (<c>expect_end</c>), or null when the line expects nothing.</summary>
    public GenerationEndReason? ExpectEnd { get; init; }

    /// <summary>The steps it must generate, or null when the line expects nothing.</summary>
    public int? ExpectedSteps => ExpectTokens?.Length ?? ExpectOutputs?.Rows;

    /// <summary>Whether <paramref name="id"/> is one of the <see cref="StopIds"/>.</summary>
    public bool IsStopId(int id) => StopIds.Span.Contains(id);
}

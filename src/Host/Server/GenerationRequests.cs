using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>Between the wire and the engine for a generation: a Generate frame's request, and a step's frame.</summary>
internal static class GenerationRequests
{
    /// <summary>The engine's request for <paramref name="frame"/>; the engine checks every value and names the field it refuses.</summary>
    public static GenerationRequest From(GenerateFrame frame)
    {
        var prompt = new Token[frame.PromptSteps];
        for (var t = 0; t < prompt.Length; t++)
        {
            prompt[t] = frame.PromptKind == TokenKind.Ids
                ? Token.Id(frame.PromptIds.Span[t])
                : Token.Vector(frame.PromptInputs.Slice(t * frame.PromptWidth, frame.PromptWidth));
        }

        var sampling = frame.Random
            ? SamplingRule.Random(frame.Seed, frame.Temperature, frame.TopK == 0 ? null : frame.TopK, frame.TopP)
            : SamplingRule.Greedy;
        return new GenerationRequest(frame.MaxSteps)
        {
            Prompt = prompt,
            Sampling = sampling,
            StopIds = frame.StopIds.ToArray(),
            ReportTop = frame.ReportTop,
        };
    }

    /// <summary>The frame that carries <paramref name="step"/>: the id, its probability and the top ids, or the vector fed back.</summary>
    public static GenerationStepFrame StepFrame(GenerateFrame request, GenerationStep step)
    {
        var frame = new GenerationStepFrame(request.Session, request.Sequence, step.Step, step.Position);
        if (step.TokenId is not { } id)
        {
            return frame with { Kind = TokenKind.Vectors, Output = step.Output };
        }

        var top = new Client.TokenProbability[step.Top.Count];
        for (var i = 0; i < top.Length; i++)
        {
            top[i] = new Client.TokenProbability(step.Top[i].TokenId, step.Top[i].Probability);
        }

        return frame with { TokenId = id, Probability = step.Probability ?? 0, Top = top };
    }
}

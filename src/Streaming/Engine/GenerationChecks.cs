using System.Globalization;
using Streaming.Cells.Model;
using Streaming.Sessions;

namespace Streaming;

/// <summary>
/// Checks a generation request against the model before it reaches a session, so a refused request changes nothing:
/// whether the model can generate at all, then each field, naming the first one that is wrong.
/// </summary>
internal static class GenerationChecks
{
    /// <summary>The checked, copied request.</summary>
    /// <exception cref="EngineException">The model cannot generate (<see cref="EngineErrorCode.GenerationNotSupported"/>) or a field is out of range (<see cref="EngineErrorCode.InvalidInput"/>).</exception>
    public static GenerationPlan Plan(ModelSpec spec, GenerationRequest request, string sessionId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var takesIds = CheckModel(spec, sessionId);
        if (request.MaxSteps is < 1 or > GenerationRequest.MaxStepsLimit)
        {
            throw Invalid(sessionId, $"MaxSteps is {request.MaxSteps}; expected 1 to {GenerationRequest.MaxStepsLimit}.");
        }

        var sampling = request.Sampling ?? throw new ArgumentNullException(nameof(request), "the request's Sampling is null; use SamplingRule.Greedy or SamplingRule.Random(seed).");
        var stopIds = request.StopIds ?? throw new ArgumentNullException(nameof(request), "the request's StopIds is null; use an empty list for none.");
        var prompt = request.Prompt ?? throw new ArgumentNullException(nameof(request), "the request's Prompt is null; use an empty list for none.");
        if (takesIds)
        {
            CheckSampling(sampling, sessionId);
            CheckIdOptions(spec.Embedding!.NumEmbeddings, stopIds, request.ReportTop, sessionId);
        }
        else
        {
            CheckVectorOptions(spec, sampling, stopIds, request.ReportTop, sessionId);
        }

        for (var t = 0; t < prompt.Count; t++)
        {
            if (prompt[t]?.At is { } at)
            {
                throw Invalid(sessionId, $"Prompt[{t}] has the position (At) {at}; a prompt's tokens follow the session's position, so they take none.");
            }
        }

        var (values, ids) = InputChecks.Copy(spec, prompt, sessionId, single: false, name: "Prompt");
        return new GenerationPlan(takesIds, spec.InputSize, spec.OutputSize, values, ids, prompt.Count, request.MaxSteps, sampling, stopIds.ToHashSet(), request.ReportTop);
    }

    // True for an id model (embedding + head with a logit per id), false for a vector model whose output is its input.
    private static bool CheckModel(ModelSpec spec, string sessionId)
    {
        if (spec.Recurrent.Bidirectional)
        {
            throw NotSupported(sessionId, "the model is bidirectional: its reverse direction needs the whole sequence, so it cannot feed its outputs back step by step.");
        }

        if (spec.Embedding is { } embedding)
        {
            if (spec.Head is not { } head)
            {
                throw NotSupported(sessionId, $"the model has an embedding ({embedding.NumEmbeddings} ids) but no head: generation needs logits, one per id, to pick the next id from.");
            }

            if (head.OutFeatures != embedding.NumEmbeddings)
            {
                throw NotSupported(sessionId, $"the head has out_features {head.OutFeatures} but the embedding has num_embeddings {embedding.NumEmbeddings}: generation needs one logit per id.");
            }

            return true;
        }

        if (spec.OutputSize != spec.InputSize)
        {
            throw NotSupported(sessionId, $"the model's output has {spec.OutputSize} values but its input_size is {spec.InputSize}: only an output the size of the input can be fed back (or ids, with an embedding and a head).");
        }

        return false;
    }

    private static void CheckSampling(SamplingRule sampling, string sessionId)
    {
        if (sampling.IsGreedy)
        {
            return;
        }

        if (!double.IsFinite(sampling.Temperature) || sampling.Temperature <= 0)
        {
            throw Invalid(sessionId, $"Sampling.Temperature is {Text(sampling.Temperature)}; expected a finite number above 0.");
        }

        if (sampling.TopK is < 1)
        {
            throw Invalid(sessionId, $"Sampling.TopK is {sampling.TopK}; expected 1 or more, or none (null) for all ids.");
        }

        if (!(sampling.TopP > 0 && sampling.TopP <= 1))
        {
            throw Invalid(sessionId, $"Sampling.TopP is {Text(sampling.TopP)}; expected a number in (0, 1].");
        }
    }

    private static void CheckIdOptions(int vocabulary, IReadOnlyList<int> stopIds, int reportTop, string sessionId)
    {
        for (var i = 0; i < stopIds.Count; i++)
        {
            if ((uint)stopIds[i] >= (uint)vocabulary)
            {
                throw Invalid(sessionId, $"StopIds[{i}] is {stopIds[i]}; expected an id in 0..{vocabulary - 1} (num_embeddings {vocabulary}).");
            }
        }

        var most = Math.Min(GenerationRequest.ReportTopLimit, vocabulary);
        if (reportTop < 0 || reportTop > most)
        {
            throw Invalid(sessionId, $"ReportTop is {reportTop}; expected 0 to {most}.");
        }
    }

    private static void CheckVectorOptions(ModelSpec spec, SamplingRule sampling, IReadOnlyList<int> stopIds, int reportTop, string sessionId)
    {
        const string why = "the model takes vectors and feeds its output vector back as it is";
        if (!sampling.IsGreedy)
        {
            throw Invalid(sessionId, $"Sampling is {sampling}, but {why}: there are no ids to sample; use SamplingRule.Greedy.");
        }

        if (stopIds.Count > 0)
        {
            throw Invalid(sessionId, $"StopIds has {stopIds.Count} id(s), but {why} (output size {spec.OutputSize}): there are no ids to stop at.");
        }

        if (reportTop != 0)
        {
            throw Invalid(sessionId, $"ReportTop is {reportTop}, but {why}: there are no ids to report; use 0.");
        }
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static EngineException Invalid(string sessionId, string message) => new(EngineErrorCode.InvalidInput, message, sessionId);

    private static EngineException NotSupported(string sessionId, string message) => new(EngineErrorCode.GenerationNotSupported, message, sessionId);
}

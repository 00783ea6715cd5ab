using System.Globalization;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Recording;

namespace Streaming.Host.Replay;

/// <summary>
/// Plays a recorded generate and checks what it generated: the ids exactly (the same model, prompt, rule and seed give
/// the same ids, docs/generation.md), their probabilities and fed-back vectors within the tolerance. A generation that
/// was stopped from outside (<c>cancelled</c>, <c>interrupted</c>) is played as one of exactly its recorded steps, so the
/// session consumes what it consumed then; one stopped before its first step consumes its prompt as a replay.
/// </summary>
internal static class GeneratedSteps
{
    /// <summary>How many ids a mismatch shows from the first that differs.</summary>
    private const int Shown = 8;

    public static async Task PlayAsync(StreamingClient client, RecordedGenerate generate, Comparison comparison)
    {
        var prompt = Prompt(generate);
        var stoppedEarly = generate.ExpectEnd is GenerationEndReason.Cancelled or GenerationEndReason.Interrupted;
        if (stoppedEarly && generate.ExpectedSteps == 0)
        {
            if (prompt.Count > 0)
            {
                await client.ReplayAsync(generate.Session, prompt).ConfigureAwait(false);
            }

            return;
        }

        var request = new Client.GenerationRequest(stoppedEarly ? generate.ExpectedSteps!.Value : generate.MaxSteps)
        {
            Prompt = prompt,
            Sampling = generate.Sampling,
            StopIds = generate.StopIds.ToArray(),
        };
        var steps = new List<Client.GenerationStep>();
        await foreach (var step in client.GenerateAsync(generate.Session, request).ConfigureAwait(false))
        {
            steps.Add(step);
        }

        if (generate.ExpectTokens is { } ids)
        {
            CompareIds(generate, ids.Span, steps, comparison);
        }
        else if (generate.ExpectOutputs is { } outputs)
        {
            CompareOutputs(generate, outputs, steps, comparison);
        }
    }

    private static List<TokenInput> Prompt(RecordedGenerate generate) => generate.PromptInputs is { } rows
        ? Enumerable.Range(0, rows.Rows).Select(r => TokenInput.Vector(rows.Row(r))).ToList()
        : generate.PromptTokens.ToArray().Select(TokenInput.Id).ToList();

    private static void CompareIds(RecordedGenerate generate, ReadOnlySpan<int> expected, List<Client.GenerationStep> steps, Comparison comparison)
    {
        if (steps.Any(s => s.TokenId is null))
        {
            comparison.Mismatch($"expected {expected.Length} id(s), got {steps.Count} step(s) of vectors (the model generates vectors, not ids)");
            return;
        }

        var actual = steps.Select(s => s.TokenId!.Value).ToArray();
        var common = Math.Min(expected.Length, actual.Length);
        for (var i = 0; i < common; i++)
        {
            if (expected[i] != actual[i])
            {
                comparison.Mismatch(Invariant(
                    $"step {i}: expected id {expected[i]}, got {actual[i]} (from step {i}: expected {Ids(expected[i..])}, got {Ids(actual.AsSpan(i))})"));
                return;
            }
        }

        if (expected.Length != actual.Length)
        {
            comparison.Mismatch(Invariant(
                $"expected {expected.Length} step(s) ending {End(generate)}, got {actual.Length} with the same ids so far"));
            return;
        }

        if (generate.ExpectProbabilities is { } probabilities)
        {
            comparison.Add("probability", probabilities.Span, steps.Select(s => (float)(s.Probability ?? double.NaN)).ToArray());
        }
    }

    private static void CompareOutputs(RecordedGenerate generate, FloatMatrix expected, List<Client.GenerationStep> steps, Comparison comparison)
    {
        if (expected.Rows != steps.Count)
        {
            comparison.Mismatch(Invariant($"expected {expected.Rows} step(s) ending {End(generate)}, got {steps.Count}"));
            return;
        }

        for (var i = 0; i < steps.Count; i++)
        {
            comparison.Add($"output of step {i}", expected.Row(i).Span, steps[i].Output.Span);
        }
    }

    private static string End(RecordedGenerate generate) => GenerateRules.EndText(generate.ExpectEnd!.Value);

    private static string Ids(ReadOnlySpan<int> ids)
    {
        var shown = ids.Length > Shown ? ids[..Shown] : ids;
        return "[" + string.Join(", ", shown.ToArray()) + (ids.Length > Shown ? ", ...]" : "]");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

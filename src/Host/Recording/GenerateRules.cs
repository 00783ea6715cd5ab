using System.Globalization;
using Streaming.Client.Protocol;

namespace Streaming.Host.Recording;

/// <summary>
/// What makes a <see cref="RecordedGenerate"/> well formed beyond its field types: its expectations agree with each
/// other and with the request (a generation that ends at a stop id ends on one, a stop id ends it, it takes at most
/// <see cref="RecordedGenerate.MaxSteps"/> steps). The reader refuses a line that breaks them, and the writer refuses
/// to write one, so every recording describes a generation that could have happened.
/// </summary>
internal static class GenerateRules
{
    private static readonly (GenerationEndReason Reason, string Text)[] Ends =
    [
        (GenerationEndReason.StopId, "stop_id"),
        (GenerationEndReason.MaxSteps, "max_steps"),
        (GenerationEndReason.Cancelled, "cancelled"),
        (GenerationEndReason.Interrupted, "interrupted"),
    ];

    /// <summary>The end's name in the file.</summary>
    public static string EndText(GenerationEndReason reason) =>
        Ends.FirstOrDefault(e => e.Reason == reason).Text
        ?? throw new ArgumentOutOfRangeException(nameof(reason), reason, "not a generation end of the recording format");

    /// <summary>The end a name stands for, or null.</summary>
    public static GenerationEndReason? EndOf(string text)
    {
        foreach (var (reason, name) in Ends)
        {
            if (name == text)
            {
                return reason;
            }
        }

        return null;
    }

    /// <summary>The names of every end, for messages.</summary>
    public static string EndNames => string.Join(", ", Ends.Select(e => $"\"{e.Text}\""));

    /// <summary>The first rule <paramref name="generate"/> breaks, with the field it concerns, or null.</summary>
    public static (string Field, string Problem)? Check(RecordedGenerate generate)
    {
        if (generate.MaxSteps < 0)
        {
            return ("max_steps", Invariant($"'max_steps' is {generate.MaxSteps}; expected 0 or more (the server allows 1 to 65,536)."));
        }

        if (generate.PromptInputs is not null && !generate.PromptTokens.IsEmpty)
        {
            return ("prompt_tokens", "a generate takes its prompt from 'prompt_tokens' (ids) or 'prompt_inputs' (rows of vectors); found both.");
        }

        if (generate.Sampling is { IsGreedy: false } random)
        {
            if (random.TopK is < 1)
            {
                return ("top_k", Invariant($"'top_k' is {random.TopK}; expected 1 or more (leave it out for every id)."));
            }

            // JSON has no NaN or infinity: such a value has no form in the file (the server refuses it anyway).
            if (!double.IsFinite(random.Temperature) || !double.IsFinite(random.TopP))
            {
                var field = double.IsFinite(random.Temperature) ? "top_p" : "temperature";
                return (field, Invariant($"'{field}' is {(field == "top_p" ? random.TopP : random.Temperature)}; expected a finite number."));
            }
        }

        return Expectations(generate);
    }

    private static (string Field, string Problem)? Expectations(RecordedGenerate generate)
    {
        var steps = generate.ExpectTokens is not null ? "expect_tokens" : "expect_outputs";
        if (generate.ExpectTokens is not null && generate.ExpectOutputs is not null)
        {
            return ("expect_tokens", "a generate expects either 'expect_tokens' (the ids of a model with an embedding and a head) or 'expect_outputs' (the vectors a vector model feeds back); found both.");
        }

        if (generate.ExpectProbabilities is { } probabilities && Probabilities(generate, probabilities) is { } wrong)
        {
            return ("expect_probabilities", wrong);
        }

        if (generate.ExpectedSteps is not { } count)
        {
            return generate.ExpectEnd is null
                ? null
                : ("expect_end", "'expect_end' needs the steps it ends: 'expect_tokens' (ids) or 'expect_outputs' (vectors); found neither.");
        }

        if (generate.ExpectEnd is not { } end)
        {
            return (steps, $"'{steps}' needs 'expect_end', how the generation ended ({EndNames}); found none.");
        }

        if (count > generate.MaxSteps)
        {
            return (steps, Invariant($"'{steps}' has {count} step(s) but 'max_steps' is {generate.MaxSteps}; a generation takes at most its maximum."));
        }

        var ids = generate.ExpectTokens is { } tokens ? tokens.Span : ReadOnlySpan<int>.Empty;
        for (var i = 0; i < ids.Length - 1; i++)
        {
            if (generate.IsStopId(ids[i]))
            {
                return ("expect_tokens", Invariant($"'expect_tokens'[{i}] is {ids[i]}, one of 'stop_ids', but the generation goes on after it; a stop id ends a generation."));
            }
        }

        return End(generate, end, count, ids.IsEmpty ? null : ids[^1]);
    }

    private static string? Probabilities(RecordedGenerate generate, ReadOnlyMemory<float> probabilities)
    {
        if (generate.ExpectTokens is not { } ids)
        {
            return "'expect_probabilities' gives the probability of each expected id; it needs 'expect_tokens', and there are none.";
        }

        if (probabilities.Length != ids.Length)
        {
            return Invariant($"'expect_probabilities' has {probabilities.Length} value(s) but 'expect_tokens' has {ids.Length}; expected one probability per id.");
        }

        var span = probabilities.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (!(span[i] is >= 0 and <= 1))
            {
                return Invariant($"'expect_probabilities'[{i}] is {span[i]}; expected a probability from 0 to 1.");
            }
        }

        return null;
    }

    private static (string Field, string Problem)? End(RecordedGenerate generate, GenerationEndReason end, int count, int? last)
    {
        var stopped = last is { } final && generate.IsStopId(final);
        string? problem = end switch
        {
            GenerationEndReason.StopId when generate.ExpectTokens is null =>
                "'expect_end' is \"stop_id\" but the generation feeds back vectors; only ids stop a generation.",
            GenerationEndReason.StopId when !stopped => last is not null
                ? Invariant($"'expect_end' is \"stop_id\" but the last expected id, {last}, is not one of 'stop_ids'.")
                : "'expect_end' is \"stop_id\" but no id is expected; a generation ends at a stop id once it has generated one.",
            GenerationEndReason.MaxSteps when count != generate.MaxSteps =>
                Invariant($"'expect_end' is \"max_steps\" but {count} step(s) are expected and 'max_steps' is {generate.MaxSteps}."),
            GenerationEndReason.MaxSteps or GenerationEndReason.Cancelled when stopped =>
                Invariant($"'expect_end' is \"{EndText(end)}\" but the last expected id, {last}, is one of 'stop_ids'; the generation ended at it (\"stop_id\")."),
            GenerationEndReason.Cancelled when count == generate.MaxSteps =>
                Invariant($"'expect_end' is \"cancelled\" but all {count} step(s) of 'max_steps' are expected; the generation ended at its maximum (\"max_steps\")."),
            _ => null,
        };
        return problem is null ? null : ("expect_end", problem);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

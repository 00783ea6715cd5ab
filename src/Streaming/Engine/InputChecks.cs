using Streaming.Cells.Model;

namespace Streaming;

/// <summary>Checks tokens against the model before they reach a session, so a refused token changes nothing.</summary>
internal static class InputChecks
{
    /// <summary>
    /// Checks <paramref name="tokens"/> and copies them: (count, input_size) values for a vector model, or the ids
    /// for a model with an embedding. <paramref name="name"/> is what the tokens are called in messages when not
    /// <paramref name="single"/>: <c>inputs[3]</c>, <c>Prompt[3]</c>.
    /// </summary>
    /// <exception cref="EngineException">A token is of the wrong kind, length or range, or not finite (code <see cref="EngineErrorCode.InvalidInput"/>).</exception>
    public static (float[] Values, int[]? Ids) Copy(ModelSpec spec, IReadOnlyList<Token> tokens, string sessionId, bool single, string name = "inputs") =>
        Copy(spec, tokens as Token[] ?? [.. tokens], sessionId, single, name);

    /// <inheritdoc cref="Copy(ModelSpec, IReadOnlyList{Token}, string, bool, string)"/>
    public static (float[] Values, int[]? Ids) Copy(ModelSpec spec, ReadOnlySpan<Token> tokens, string sessionId, bool single, string name = "inputs")
    {
        if (spec.Embedding is { } embedding)
        {
            var ids = new int[tokens.Length];
            for (var t = 0; t < tokens.Length; t++)
            {
                var token = tokens[t] ?? throw new ArgumentNullException(single ? "token" : $"{name}[{t}]");
                if (!token.IsId)
                {
                    throw Invalid(sessionId, $"{What(single, name, t)} is a vector of {token.Values.Length} values, but the model has an embedding " +
                                             $"and takes token ids (token kind 1) in 0..{embedding.NumEmbeddings - 1}.");
                }

                if ((uint)token.TokenId >= (uint)embedding.NumEmbeddings)
                {
                    throw Invalid(sessionId, $"{What(single, name, t)} is the id {token.TokenId}; expected an id in 0..{embedding.NumEmbeddings - 1} " +
                                             $"(num_embeddings {embedding.NumEmbeddings}).");
                }

                ids[t] = token.TokenId;
            }

            return ([], ids);
        }

        var size = spec.InputSize;
        var values = new float[tokens.Length * size];
        for (var t = 0; t < tokens.Length; t++)
        {
            var token = tokens[t] ?? throw new ArgumentNullException(single ? "token" : $"{name}[{t}]");
            if (token.IsId)
            {
                throw Invalid(sessionId, $"{What(single, name, t)} is the id {token.TokenId}, but the model has no embedding " +
                                         $"and takes float vectors (token kind 0) of input_size {size}.");
            }

            var span = token.Values.Span;
            if (span.Length != size)
            {
                throw Invalid(sessionId, $"{What(single, name, t)} has {span.Length} values; expected input_size {size}.");
            }

            for (var i = 0; i < span.Length; i++)
            {
                if (!float.IsFinite(span[i]))
                {
                    throw Invalid(sessionId, $"{What(single, name, t)} has the value {span[i]} at index {i}; inputs must be finite numbers.");
                }
            }

            span.CopyTo(values.AsSpan(t * size, size));
        }

        return (values, null);
    }

    private static string What(bool single, string name, int index) => single ? "the token" : $"{name}[{index}]";

    private static EngineException Invalid(string sessionId, string message) => new(EngineErrorCode.InvalidInput, message, sessionId);
}

namespace Streaming.Generators.Reference;

/// <summary>One input step: a float vector for a model without an embedding, else a token id.</summary>
/// <param name="Vector">The input vector, or null for a token id.</param>
/// <param name="Id">The token id when <paramref name="Vector"/> is null.</param>
internal sealed record Step(float[]? Vector, int Id)
{
    public static Step Of(float[] vector) => new(vector, 0);

    public static Step Of(int id) => new(null, id);
}

namespace Streaming.Tests.Sessions;

/// <summary>How the FsCheck scripts (of the session machine and of a real engine) shrink.</summary>
public static class ScriptShrink
{
    /// <summary>Shorter scripts first: without a run of steps (halves, quarters, ... single steps), so a failure shrinks to its few steps that matter.</summary>
    public static IEnumerable<T[]> WithoutRuns<T>(T[] script)
    {
        for (var length = script.Length / 2; length >= 1; length /= 2)
        {
            for (var start = 0; start + length <= script.Length; start += length)
            {
                yield return [.. script[..start], .. script[(start + length)..]];
            }
        }
    }
}

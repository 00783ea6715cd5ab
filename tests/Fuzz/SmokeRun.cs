namespace Streaming.Fuzz;

/// <summary>
/// Fuzzing without AFL, for the test suite: a target's seeds, then seeded random mutations of them, each checked
/// in this process. Finds shallow breaks in seconds; the coverage-guided campaigns (scripts/fuzz.sh) find the rest.
/// </summary>
public static class SmokeRun
{
    /// <summary>Checks every seed and <paramref name="mutations"/> mutants; returns one line per input that broke the contract (at most 10).</summary>
    public static IReadOnlyList<string> Run(FuzzTarget target, IReadOnlyList<byte[]> seeds, int mutations, int randomSeed)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(seeds);
        var failures = new List<string>();
        var mutator = new Mutator(randomSeed);
        var pick = new Random(randomSeed);
        var inputs = seeds.Select(s => ("seed", s)).Concat(Enumerable.Range(0, seeds.Count == 0 ? 0 : mutations).Select(i =>
            ($"mutant {i}", mutator.Mutate(seeds[pick.Next(seeds.Count)], seeds[pick.Next(seeds.Count)]))));
        foreach (var (what, input) in inputs)
        {
            if (Failure(target, input) is { } failure)
            {
                failures.Add($"{target.Name} {what}: {failure}");
                if (failures.Count == 10)
                {
                    break;
                }
            }
        }

        return failures;
    }

    /// <summary>Why <paramref name="input"/> breaks <paramref name="target"/>'s contract, with the input in hex; null when it holds.</summary>
    public static string? Failure(FuzzTarget target, byte[] input)
    {
        ArgumentNullException.ThrowIfNull(target);
        try
        {
            target.Check(input);
            return null;
        }
        catch (Exception e)
        {
            // Every exception that escapes the contract is the finding: name it, where it came from, and the input.
            // Where it left the project's code: the first frame in it, else the innermost frame.
            var frames = e.StackTrace?.Split('\n').Select(f => f.Trim()).ToList() ?? ["no stack trace"];
            var origin = frames.FirstOrDefault(f => f.StartsWith("at Streaming.", StringComparison.Ordinal)) ?? frames[0];
            return $"{e.GetType().Name}: {e.Message} [{origin}] (input {input.Length} byte(s): {Convert.ToHexString(input, 0, Math.Min(input.Length, 512))}{(input.Length > 512 ? "..." : "")})";
        }
    }
}

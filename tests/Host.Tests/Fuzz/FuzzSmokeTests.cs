using Streaming.Fuzz;

namespace Host.Tests.Fuzz;

/// <summary>
/// Each fuzz harness (tests/Fuzz) over its committed seed corpus and a few thousand seeded random mutations of it, in
/// this process, without AFL: the parser either succeeds or throws only what it documents, within its allocation
/// budget. The coverage-guided campaigns (scripts/fuzz.sh) go much further; this keeps shallow breaks out of the suite.
/// </summary>
public sealed class FuzzSmokeTests
{
    public static TheoryData<string> Targets()
    {
        var names = new TheoryData<string>();
        foreach (var target in FuzzTargets.All)
        {
            names.Add(target.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seeds_and_their_mutations_keep_the_parsers_contract(string name)
    {
        var target = FuzzTargets.Named(name);
        var seeds = FuzzTargets.Corpus(target);
        Assert.NotEmpty(seeds);

        var failures = SmokeRun.Run(target, seeds, mutations: 2000, randomSeed: 10);

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}

using FsCheck;
using FsCheck.Xunit;

namespace Streaming.Tests.Sessions;

/// <summary>
/// Thousands of random interleavings of callers' operations (with and without positions), elements coming back,
/// store calls succeeding or failing, time passing, sweeps, checkpoints, evictions, shutdowns, crashes and pipeline
/// failures over three sessions, run through the pure session machine in a simulated world (<see cref="SessionWorld"/>)
/// and checked against a simple model at every step.
/// </summary>
public sealed class SessionMachineModelTests
{
    [Property(MaxTest = 5000, Arbitrary = [typeof(ScriptArbitrary)])]
    public void Every_interleaving_keeps_the_rules_of_the_simple_model(Step[] script) => SessionWorld.Run(script);

    [Fact]
    public void The_scripts_reach_the_store_failures_whose_rules_they_check()
    {
        // A fixed seed: the same 2,000 scripts every run.
        var reached = new HashSet<string>(StringComparer.Ordinal);
        foreach (var script in FsCheck.Fluent.Gen.Sample(ScriptArbitrary.Scripts().Generator, 100, new Rnd(7UL), 2000))
        {
            reached.UnionWith(SessionWorld.Run(script));
        }

        foreach (var milestone in new[] { "Loading -> LoadFailed", "LoadFailed -> Open", "LoadFailed -> Gone", "a close answered StoreFailed", "LoadEffect Fails" })
        {
            Assert.Contains(milestone, reached);
        }
    }
}

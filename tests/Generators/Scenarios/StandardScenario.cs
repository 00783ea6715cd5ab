using Streaming.Generators.Recordings;
using Streaming.Host.Recording;

namespace Streaming.Generators.Scenarios;

/// <summary>
/// The full life of sessions on a unidirectional model (vectors or token ids): open from zeros and from
/// h0/c0, interleaved tokens, snapshots, every kind of refused input each followed by a token that must
/// come out as if the refusal had not happened, re-open and unknown session refused, replay from the
/// current state and from a given h0/c0 with tokens continuing after it, a refused replay, reset then
/// tokens from zeros, a replay straight after open, a refused generate, and close (after which the session refuses
/// everything).
/// </summary>
internal static class StandardScenario
{
    public static void Write(Recorder r, InputSource inputs)
    {
        r.Open("a");
        r.Open("b", inputs.State());
        for (var i = 0; i < 4; i++)
        {
            r.Token("a", inputs.Next());
            r.Token("b", inputs.Next());
        }

        r.Snapshot("a");
        r.Snapshot("b");
        foreach (var invalid in inputs.Invalid())
        {
            r.RefusedToken("a", invalid);
            r.Token("a", inputs.Next());
        }

        r.Refused(new RecordedOpen(0, "a"));
        // A generate: a model that cannot generate refuses it (GenerationNotSupported), one that can a temperature of 0.
        r.RefusedGenerate(r.CanGenerate
            ? new RecordedGenerate(0, "a", 4) { Sampling = Client.SamplingRule.Random(1, temperature: 0) }
            : new RecordedGenerate(0, "a", 4));
        r.RefusedToken("never-opened", inputs.Next());
        r.Snapshot("a");

        r.Replay("a", inputs.Sequence(4));
        for (var i = 0; i < 3; i++)
        {
            r.Token("a", inputs.Next());
        }

        r.Snapshot("a");
        r.Replay("b", inputs.Sequence(3), inputs.State());
        r.Token("b", inputs.Next());
        r.Token("b", inputs.Next());
        r.Snapshot("b");
        r.RefusedReplay("b", inputs.InvalidSequence(3));
        r.Token("b", inputs.Next());

        r.Reset("a");
        r.Snapshot("a");
        for (var i = 0; i < 3; i++)
        {
            r.Token("a", inputs.Next());
        }

        r.Snapshot("a");
        r.Open("c");
        r.Replay("c", inputs.Sequence(5));
        r.Token("c", inputs.Next());
        r.Token("c", inputs.Next());
        r.Snapshot("c");

        r.Close("a");
        r.RefusedToken("a", inputs.Next());
        r.Refused(new RecordedSnapshot(0, "a"));
        r.Refused(new RecordedClose(0, "a"));
        r.Token("b", inputs.Next());
        r.Snapshot("b");
        r.Close("b");
        r.Close("c");
    }
}

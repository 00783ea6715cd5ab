using Streaming.Generators.Recordings;
using Streaming.Host.Recording;

namespace Streaming.Generators.Scenarios;

/// <summary>
/// A bidirectional model serves whole sequences only: every token is refused (a reverse direction needs
/// the whole sequence), while replays run from zeros, from the h0/c0 given at open, from the state a
/// previous replay left (h_n, both directions) and from a given h0/c0; snapshots hold h_n/c_n of the last
/// replay; reset goes back to zeros; a generate is refused.
/// </summary>
internal static class BidirectionalScenario
{
    public static void Write(Recorder r, InputSource inputs)
    {
        r.Open("a");
        r.RefusedToken("a", inputs.Next());
        // A reverse direction needs the whole sequence: generation is refused (GenerationNotSupported).
        r.RefusedGenerate(new RecordedGenerate(0, "a", 4));
        r.Replay("a", inputs.Sequence(5));
        r.Snapshot("a");
        r.Replay("a", inputs.Sequence(3));
        r.Snapshot("a");

        r.Open("b", inputs.State());
        r.Snapshot("b");
        r.Replay("b", inputs.Sequence(4));
        r.Replay("b", inputs.Sequence(4), inputs.State());
        r.RefusedToken("b", inputs.Next());
        r.RefusedReplay("b", inputs.InvalidSequence(2));
        r.Snapshot("b");
        r.Reset("b");
        r.Replay("b", inputs.Sequence(2));
        r.Snapshot("b");

        r.Close("a");
        r.RefusedToken("a", inputs.Next());
        r.Close("b");
    }
}

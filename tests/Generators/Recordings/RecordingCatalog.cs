using Streaming.Generators.Models;
using Streaming.Generators.Scenarios;

namespace Streaming.Generators.Recordings;

/// <summary>The recordings in tests/recordings (docs/recording-format.md, "Shipped recordings", says what each covers).</summary>
internal static class RecordingCatalog
{
    public static IReadOnlyList<RecordingDefinition> All { get; } =
    [
        new("rnn-tanh", ModelCatalog.RnnTanh, StandardScenario.Write, 3001),
        new("rnn-relu-nobias", ModelCatalog.RnnReluNoBias, StandardScenario.Write, 3002),
        new("lstm", ModelCatalog.Lstm, StandardScenario.Write, 3003),
        new("lstm-nobias", ModelCatalog.LstmNoBias, StandardScenario.Write, 3004),
        new("gru", ModelCatalog.Gru, StandardScenario.Write, 3005),
        new("lstm-proj", ModelCatalog.LstmProj, StandardScenario.Write, 3006),
        new("lstm-bidirectional", ModelCatalog.LstmBidirectional, BidirectionalScenario.Write, 3007),
        new("gru-bidirectional", ModelCatalog.GruBidirectional, BidirectionalScenario.Write, 3008),
        new("char-lstm", ModelCatalog.CharLstm, StandardScenario.Write, 3009),
        new("interleaved", ModelCatalog.Lstm, InterleavedScenario.Write, 3010),
        new("char-lstm-generate", ModelCatalog.CharLstm, GenerationScenario.Write, 3011),
        new("gru-loop-generate", ModelCatalog.GruLoop, GenerationScenario.Write, 3012),
    ];
}

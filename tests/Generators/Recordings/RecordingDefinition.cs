using Streaming.Generators.Models;

namespace Streaming.Generators.Recordings;

/// <summary>One shipped recording: its file name (without .jsonl), the model it plays against, the scenario and the seed of its inputs.</summary>
internal sealed record RecordingDefinition(string Name, ModelDefinition Model, Action<Recorder, InputSource> Scenario, int Seed);

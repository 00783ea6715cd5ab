namespace Streaming.Generators.Training;

/// <summary>One epoch's figures, in nats per character.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="TrainLoss">The mean cross-entropy of the epoch's windows, dropout active.</param>
/// <param name="HeldOutLoss">The cross-entropy on the held-out text after the epoch, from zero state, dropout off.</param>
/// <param name="HeldOutAccuracy">The share of held-out characters the model's most likely next character gets right.</param>
/// <param name="Elapsed">Training time since the start.</param>
internal sealed record EpochReport(int Epoch, double TrainLoss, double HeldOutLoss, double HeldOutAccuracy, TimeSpan Elapsed);

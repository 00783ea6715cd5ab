namespace Streaming.Host.Recording;

/// <summary>
/// The first line of a recording: <c>{"format":"rnn-recording/1","model":"model.json","tolerance":1e-4}</c>.
/// </summary>
/// <param name="Model">The model manifest's path as written, relative to the recording's folder (or absolute).</param>
/// <param name="Tolerance">The absolute tolerance every expectation holds within; 1e-4 when the header has none.</param>
public sealed record RecordingHeader(string Model, double Tolerance = RecordingHeader.DefaultTolerance)
{
    /// <summary>The format name and version this library reads and writes.</summary>
    public const string Format = "rnn-recording/1";

    /// <summary>The tolerance of a header that does not give one.</summary>
    public const double DefaultTolerance = 1e-4;
}

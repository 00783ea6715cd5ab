namespace Streaming.Host.Recording;

/// <summary>
/// The first line of a recording: <c>{"format":"rnn-recording/2","model":"model.json","tolerance":1e-4}</c>.
/// </summary>
/// <param name="Model">The model manifest's path as written, relative to the recording's folder (or absolute).</param>
/// <param name="Tolerance">The absolute tolerance every expectation holds within; 1e-4 when the header has none.</param>
public sealed record RecordingHeader(string Model, double Tolerance = RecordingHeader.DefaultTolerance)
{
    /// <summary>The format name and version this library writes: version 1 and the generate operation.</summary>
    public const string Format = "rnn-recording/2";

    /// <summary>The first version of the format, without generate; still read, and written when <see cref="Version"/> is 1.</summary>
    public const string Format1 = "rnn-recording/1";

    /// <summary>The newest version: what a header is unless it says otherwise.</summary>
    public const int LatestVersion = 2;

    /// <summary>The tolerance of a header that does not give one.</summary>
    public const double DefaultTolerance = 1e-4;

    /// <summary>The format's version: 1 (no generate) or 2 (<see cref="LatestVersion"/>, the default).</summary>
    public int Version { get; init; } = LatestVersion;

    /// <summary>The <c>format</c> field of this header: <c>rnn-recording/</c> and the version.</summary>
    public string FormatName => Version == 1 ? Format1 : Format;
}

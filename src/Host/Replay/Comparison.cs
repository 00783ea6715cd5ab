using System.Globalization;

namespace Streaming.Host.Replay;

/// <summary>
/// The comparisons of one operation: the largest absolute error over every value compared, and, when it exceeds the
/// tolerance or a shape differs, a failure that names the worst value (what was expected, what came) and that error.
/// </summary>
internal sealed class Comparison(double tolerance)
{
    private string? _mismatch;
    private string? _worstWhat;
    private int _worstIndex;
    private float _worstExpected;
    private float _worstActual;

    /// <summary>The largest |expected - actual| seen; infinity for a NaN or infinite answer.</summary>
    public double Error { get; private set; }

    /// <summary>What went wrong, or null when every value is within the tolerance.</summary>
    public string? Failure => _mismatch ?? (Error <= tolerance
        ? null
        : string.Create(CultureInfo.InvariantCulture,
            $"{_worstWhat}[{_worstIndex}]: expected {_worstExpected:G9}, got {_worstActual:G9}; largest |error| of the operation {Error:E4} > tolerance {tolerance:E1}"));

    /// <summary>Compares one vector of the operation.</summary>
    public void Add(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            Mismatch($"{what}: expected {expected.Length} values, got {actual.Length}");
            return;
        }

        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            if (!double.IsFinite(d))
            {
                d = double.PositiveInfinity;
            }

            if (d > Error || _worstWhat is null)
            {
                Error = Math.Max(Error, d);
                _worstWhat = what;
                _worstIndex = i;
                _worstExpected = expected[i];
                _worstActual = actual[i];
            }
        }
    }

    /// <summary>A difference of shape: the operation fails whatever its values.</summary>
    public void Mismatch(string problem)
    {
        _mismatch ??= problem;
        Error = double.PositiveInfinity;
    }
}

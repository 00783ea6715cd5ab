using TorchSharp;

namespace Streaming.Cells.Torch;

/// <summary>Turns <see cref="Backends.BackendOptions.Device"/> strings into libtorch devices, refusing what this process cannot run.</summary>
internal static class TorchDevices
{
    /// <summary>
    /// Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive). CUDA is checked here, once, so a
    /// missing GPU or a CPU-only TorchSharp package fails at load time with a message rather than at the
    /// first step with a native error.
    /// </summary>
    /// <param name="text">The device string.</param>
    /// <param name="parameterName">The argument it came from, for the exception.</param>
    /// <exception cref="ArgumentException">The text names no device this backend knows.</exception>
    /// <exception cref="InvalidOperationException">CUDA was requested and is unavailable, or the index is out of range.</exception>
    public static torch.Device Parse(string text, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalized = text.Trim().ToLowerInvariant();
        if (normalized == "cpu")
        {
            return torch.CPU;
        }

        int? index = null;
        if (normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!int.TryParse(normalized.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                throw new ArgumentException($"device '{text}' has no valid CUDA index; expected cpu, cuda or cuda:N with N a non-negative integer.", parameterName);
            }

            index = parsed;
        }
        else if (normalized != "cuda")
        {
            throw new ArgumentException($"device '{text}' is not supported; expected cpu, cuda or cuda:N.", parameterName);
        }

        if (!torch.cuda.is_available())
        {
            throw new InvalidOperationException(
                $"device '{text}' was requested but CUDA is unavailable in this process: libtorch found no usable GPU " +
                "(the project references the CPU-only TorchSharp package, or no GPU and driver are present). Use device 'cpu'.");
        }

        var count = torch.cuda.device_count();
        if (index is { } i && i >= count)
        {
            throw new InvalidOperationException($"device '{text}' does not exist: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}.");
        }

        return index is { } n ? new torch.Device(DeviceType.CUDA, n) : new torch.Device(DeviceType.CUDA, 0);
    }
}

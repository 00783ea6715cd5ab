using static TorchSharp.torch;

namespace Streaming.Cells.Tests.Torch;

/// <summary>The devices Torch tests run on: the CPU always, CUDA only when this process can use it.</summary>
internal static class TorchTestDevices
{
    public static IReadOnlyList<string> All { get; } = cuda.is_available() ? ["cpu", "cuda"] : ["cpu"];

    /// <summary>Every combination of <paramref name="cases"/> with every available device (the device goes last).</summary>
    public static TheoryData<T1, T2, T3, string> With<T1, T2, T3>(IEnumerable<(T1, T2, T3)> cases)
    {
        var data = new TheoryData<T1, T2, T3, string>();
        foreach (var (a, b, c) in cases)
        {
            foreach (var device in All)
            {
                data.Add(a, b, c, device);
            }
        }

        return data;
    }

    /// <summary>Every combination of <paramref name="cases"/> with every available device (the device goes last).</summary>
    public static TheoryData<T1, T2, string> With<T1, T2>(IEnumerable<(T1, T2)> cases)
    {
        var data = new TheoryData<T1, T2, string>();
        foreach (var (a, b) in cases)
        {
            foreach (var device in All)
            {
                data.Add(a, b, device);
            }
        }

        return data;
    }

    /// <summary>Every available device, as theory data.</summary>
    public static TheoryData<string> Devices()
    {
        var data = new TheoryData<string>();
        foreach (var device in All)
        {
            data.Add(device);
        }

        return data;
    }
}

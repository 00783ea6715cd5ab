using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Streaming.Benchmarks;

/// <summary>One line describing where the figures were taken.</summary>
internal static class MachineInfo
{
    public static string Describe() =>
        $"> {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {System.Environment.ProcessorCount} cores, " +
        $".NET {System.Environment.Version}, Vector512 {(Vector512.IsHardwareAccelerated ? "yes" : "no")}, " +
        $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}, libtorch threads {TorchSharp.torch.get_num_threads()}, " +
        $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n";
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Streaming.Cells.Backends;

/// <summary>
/// Names the processor the way a kernel fault is reported: model name, vendor family and model (the fault that
/// led to the kernel check is specific to one family), and the vector extensions that select native kernels.
/// </summary>
public static class CpuDescription
{
    private static readonly Lazy<string> Cached = new(Read);

    /// <summary>For example <c>AMD EPYC (AuthenticAMD family 26 model 2; avx2 fma avx512f; 2 cores)</c>.</summary>
    public static string Current => Cached.Value;

    private static string Read()
    {
        var extensions = new List<string>();
        if (Avx2.IsSupported)
        {
            extensions.Add("avx2");
        }

        if (Fma.IsSupported)
        {
            extensions.Add("fma");
        }

        if (Avx512F.IsSupported)
        {
            extensions.Add("avx512f");
        }

        if (!Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            extensions.Add("(vector512 not accelerated)");
        }

        if (extensions.Count == 0)
        {
            extensions.Add(RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant());
        }

        var (name, identity) = FromProcCpuinfo();
        return $"{name} ({(identity is null ? string.Empty : identity + "; ")}{string.Join(' ', extensions)}; {Environment.ProcessorCount} cores)";
    }

    // Linux only; elsewhere the architecture stands in for the name.
    private static (string Name, string? Identity) FromProcCpuinfo()
    {
        try
        {
            string? name = null, vendor = null, family = null, model = null;
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.Length == 0)
                {
                    break;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    continue;
                }

                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                switch (key)
                {
                    case "model name": name = value; break;
                    case "vendor_id": vendor = value; break;
                    case "cpu family": family = value; break;
                    case "model": model = value; break;
                }
            }

            var identity = vendor is null && family is null ? null : $"{vendor} family {family} model {model}";
            return (name ?? RuntimeInformation.ProcessArchitecture.ToString(), identity);
        }
        catch (IOException)
        {
            return (RuntimeInformation.ProcessArchitecture.ToString(), null);
        }
        catch (UnauthorizedAccessException)
        {
            return (RuntimeInformation.ProcessArchitecture.ToString(), null);
        }
    }
}

using System.Runtime.InteropServices;

namespace Streaming.Host.Server;

/// <summary>The process's limit on open file descriptors (RLIMIT_NOFILE), which bounds the connections it can hold.</summary>
internal static class DescriptorLimit
{
    private const int RlimitNofile = 7;

    /// <summary>The soft limit the process runs under now; null where it cannot be read (not Linux) or is unlimited.</summary>
    public static long? Soft()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return GetRlimit(RlimitNofile, out var limit) == 0 && limit.Current < long.MaxValue ? (long)limit.Current : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The descriptors the process has open now (the runtime keeps one or two per loaded assembly); null where unknown.</summary>
    public static int? Open()
    {
        try
        {
            return OperatingSystem.IsLinux() ? Directory.GetFileSystemEntries("/proc/self/fd").Length : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRlimit(int resource, out Rlimit limit);
}

using Streaming.Cells.Backends;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// The Status frame that answers a StatusRequest: the service's kernel report in the protocol's own terms, which use
/// only BCL types so that the codec can serve clients that know nothing of the backends.
/// </summary>
internal static class ServerStatus
{
    /// <summary>
    /// The Status for <paramref name="report"/>, whole when it fits <paramref name="codec"/>'s maximum frame size, else
    /// with the chosen paths only; null when not even those fit.
    /// </summary>
    public static StatusFrame? For(ulong nonce, bool ready, KernelReport report, FrameCodec codec)
    {
        // Rounded as the start-up log rounds it, so that both name the same milliseconds.
        var checkTime = TimeSpan.FromMilliseconds(Math.Round(report.Duration.TotalMilliseconds, MidpointRounding.AwayFromZero));
        var whole = new StatusFrame(nonce, ready, report.Backend, report.Cpu, checkTime, report.Tolerance, report.Trials.Select(Kernel).ToArray());
        if (Fits(whole, codec))
        {
            return whole;
        }

        var chosen = whole with { Kernels = whole.Chosen.ToArray() };
        return Fits(chosen, codec) ? chosen : null;
    }

    public static KernelStatus Kernel(KernelTrial trial) => new(
        trial.Layer,
        trial.Role.ToString().ToLowerInvariant(),
        trial.Path,
        // The protocol has no NaN errors: a path that produced one failed, which it reports as infinity.
        double.IsNaN(trial.MaxError) ? double.PositiveInfinity : trial.MaxError,
        trial.Chosen ? KernelVerdict.Chosen : trial.Passed ? KernelVerdict.Passed : KernelVerdict.Rejected);

    private static bool Fits(StatusFrame status, FrameCodec codec)
    {
        try
        {
            codec.EncodedLength(status);
            return true;
        }
        catch (ProtocolException e) when (e.Code == ProtocolErrorCode.FrameTooLarge)
        {
            return false;
        }
    }
}

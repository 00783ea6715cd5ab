using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Streaming.Host.Server;

/// <summary>
/// The server's accept loop. It never ends on an error: when the operating system refuses to accept (out of
/// descriptors, buffers or memory) it waits, from 10 ms doubling up to 1 s while the refusals last, and logs the first
/// refusal and the recovery rather than every retry; a client that gave up before it was accepted is skipped. It ends
/// when <c>stop</c> is cancelled or the listener is disposed.
/// </summary>
internal sealed class AcceptLoop(
    Func<CancellationToken, ValueTask<Socket>> accept,
    Action<Socket> admit,
    Action failed,
    Func<TimeSpan, CancellationToken, Task> wait,
    EndPoint endpoint,
    ILogger logger)
{
    /// <summary>The first wait after a refused accept.</summary>
    public static readonly TimeSpan FirstBackOff = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest wait between accepts that keep being refused.</summary>
    public static readonly TimeSpan LastBackOff = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken stop)
    {
        var backOff = FirstBackOff;
        long failures = 0;
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await accept(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // The client gave up before it was accepted: nothing to wait for.
                continue;
            }
            catch (SocketException e)
            {
                if (failures++ == 0)
                {
                    logger.AcceptFailing(endpoint, e.SocketErrorCode, e.Message, backOff);
                }

                failed();
                try
                {
                    await wait(backOff, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, LastBackOff.Ticks));
                continue;
            }

            if (failures > 0)
            {
                logger.AcceptRecovered(endpoint, failures);
                failures = 0;
                backOff = FirstBackOff;
            }

            admit(socket);
        }
    }
}

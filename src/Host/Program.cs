using System.CommandLine;
using Streaming.Host.Service;

namespace Streaming.Host;

internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Streaming RNN server: PyTorch-exact RNN/LSTM/GRU outputs for many live token streams.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(Replay.ReplayCommand.Create());
        root.Subcommands.Add(HealthCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        // SIGTERM and Ctrl-C belong to the worker service, whose graceful drain may take longer than the parser's
        // default two-second grace before it ends the process; without handling here, the host's lifetime takes them.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}

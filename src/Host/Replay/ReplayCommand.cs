using System.CommandLine;
using Akka.Actor;
using Akka.Configuration;
using Streaming.Cells.Backends;
using Streaming.Host.Recording;
using Streaming.Host.Server;

namespace Streaming.Host.Replay;

/// <summary>
/// <c>replay &lt;recording.jsonl&gt;</c>: plays a recording over TCP and ends with <c>N passed, M failed</c>;
/// exits 1 when anything failed. Without <c>--host</c> it serves the recording's model (or <c>--model</c>,
/// to regress a new model version against an old recording) in process on a free loopback port.
/// </summary>
internal static class ReplayCommand
{
    private static readonly Argument<FileInfo> Recording = new("recording") { Description = "The recording (JSON Lines, rnn-recording/2 or /1)" };
    private static readonly Option<string?> Host = new("--host") { Description = "Server to play against (default: an in-process server)" };
    private static readonly Option<int> Port = new("--port") { Description = "Server port (with --host)", DefaultValueFactory = _ => 7700 };
    private static readonly Option<FileInfo?> Model = new("--model") { Description = "Model manifest for the in-process server (default: the recording's)" };
    private static readonly Option<string> Backend = new("--backend")
    {
        Description = "Backend of the in-process server: Managed or Torch (default: STREAMING_BACKEND, else Managed)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STREAMING_BACKEND") is { Length: > 0 } fromEnvironment ? fromEnvironment : "Managed",
    };
    private static readonly Option<int> Connections = new("--connections") { Description = "Connections to spread sessions over", DefaultValueFactory = _ => 4 };

    public static Command Create()
    {
        var command = new Command("replay", "Play a recording over TCP and check every recorded output.");
        command.Arguments.Add(Recording);
        foreach (var option in new Option[] { Host, Port, Model, Backend, Connections })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, _) => RunAsync(result));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result)
    {
        var recording = result.GetValue(Recording)!;
        IReadOnlyList<RecordedOperation> operations;
        RecordingHeader header;
        string manifest;
        try
        {
            using var reader = RecordingReader.Open(recording.FullName);
            header = reader.Header;
            manifest = result.GetValue(Model)?.FullName ?? reader.ModelManifestPath;
            operations = reader.ReadToEnd();
        }
        catch (Exception e) when (e is RecordingFormatException or IOException)
        {
            await Console.Error.WriteLineAsync($"replay: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        if (!Enum.TryParse<BackendKind>(result.GetValue(Backend), ignoreCase: true, out var backend))
        {
            await Console.Error.WriteLineAsync($"replay: the backend (--backend or STREAMING_BACKEND) is '{result.GetValue(Backend)}'; expected Managed or Torch.").ConfigureAwait(false);
            return 2;
        }

        var progress = Console.IsErrorRedirected ? null : Progress(operations.Count);
        ReplayReport report;
        if (result.GetValue(Host) is { } host)
        {
            report = await RecordingPlayer.PlayAsync(operations, header.Tolerance, host, result.GetValue(Port), result.GetValue(Connections), progress).ConfigureAwait(false);
        }
        else
        {
            using var system = ActorSystem.Create("replay", ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
            RecurrentEngine engine;
            try
            {
                engine = await RecurrentEngine.StartAsync(system, manifest, EngineOptions.Default with { Backend = new BackendOptions(backend) }).ConfigureAwait(false);
            }
            catch (KernelCheckException e)
            {
                await Console.Error.WriteLineAsync($"replay: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            await using (engine.ConfigureAwait(false))
            {
                // Which compute paths answer matters when a number is off: say so before any result.
                Console.WriteLine($"serving with {engine.Kernels.Summary}");
                foreach (var warning in engine.Kernels.Warnings)
                {
                    Console.WriteLine($"warning: {warning}");
                }

                var server = await StreamingServer.StartAsync(system, engine, ServerOptions.Default with { Port = 0 }).ConfigureAwait(false);
                await using (server.ConfigureAwait(false))
                {
                    report = await RecordingPlayer.PlayAsync(operations, header.Tolerance, "127.0.0.1", server.Endpoint.Port, result.GetValue(Connections), progress).ConfigureAwait(false);
                }
            }

            await system.Terminate().ConfigureAwait(false);
        }

        if (progress is not null)
        {
            await Console.Error.WriteLineAsync().ConfigureAwait(false);
        }

        foreach (var failure in report.Failures)
        {
            Console.WriteLine(failure);
        }

        Console.WriteLine(report.Largest);
        Console.WriteLine(report.Summary);
        return report.Failed == 0 ? 0 : 1;
    }

    private static Action<int> Progress(int total)
    {
        var last = 0L;
        return done =>
        {
            var now = Environment.TickCount64;
            if (done == total || now - Interlocked.Read(ref last) >= 200)
            {
                Interlocked.Exchange(ref last, now);
                Console.Error.Write($"\r{done}/{total} operations");
            }
        };
    }
}

using System.Diagnostics;
using Streaming;
using Streaming.Host.Client;
using Streaming.Sessions;

namespace Host.Tests.Service;

/// <summary>Sessions open at SIGTERM are saved to the snapshot folder and resume, exactly, in the next process.</summary>
public sealed partial class ServeProcessTests
{
    [Fact]
    public async Task Sigterm_saves_open_sessions_to_the_snapshot_folder_and_a_restarted_serve_resumes_them_exactly()
    {
        var snapshots = Directory.CreateTempSubdirectory("serve-snapshots-");
        try
        {
            int[] ids = [3, 17, 42, 5, 63, 0, 9, 11];
            float[] expectedNext;
            int answered;
            string firstOutput;
            using (var serve = Start("serve", "--port", "0", "--snapshots", snapshots.FullName))
            {
                var port = await ListeningPort(serve);
                await using var client = await StreamingClient.ConnectAsync("127.0.0.1", port);
                await client.OpenAsync("kept");
                foreach (var id in ids[..6])
                {
                    await client.PushAsync("kept", Token.Id(id));
                }

                // What the next token must give after the restart: the same state, carried on in this process.
                await client.RestoreAsync("twin", await client.SnapshotAsync("kept"));
                expectedNext = (await client.PushAsync("twin", Token.Id(ids[6]))).Output.ToArray();
                await client.CloseAsync("twin");

                // Tokens in flight at SIGTERM: those the server read are answered, the rest refused as not applied.
                await client.OpenAsync("busy");
                var inFlight = ids.Select(id => client.PushAsync("busy", Token.Id(id))).ToList();
                await Terminate(serve);
                firstOutput = Output(serve);
                Assert.Equal(0, serve.ExitCode);
                Assert.Contains("2 open session(s) were snapshotted into the store", Output(serve), StringComparison.Ordinal);
                await Task.WhenAll(inFlight.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
                answered = inFlight.TakeWhile(p => p.IsCompletedSuccessfully).Count();
                Assert.All(inFlight.Skip(answered), p => Assert.Equal(
                    EngineErrorCode.EngineStopped, Assert.IsType<StreamingClientException>(p.Exception!.InnerException).EngineCode));
            }

            var saved = Directory.EnumerateFiles(snapshots.FullName, "*", SearchOption.AllDirectories).ToList();
            Assert.True(saved.Count(f => f.EndsWith(".snapshot", StringComparison.Ordinal)) == 2, "saved: " + string.Join(", ", saved) + "\n" + firstOutput);
            using (var restarted = Start("serve", "--port", "0", "--snapshots", snapshots.FullName))
            {
                var port = await ListeningPort(restarted);
                await using var client = await StreamingClient.ConnectAsync("127.0.0.1", port);
                var resumed = await client.PushAsync("kept", Token.Id(ids[6]));
                Assert.Equal(7, resumed.Position);
                Assert.Equal(expectedNext, resumed.Output.ToArray());
                Assert.Equal(answered, (await client.SnapshotAsync("busy")).Position);
                var reopen = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync("kept"));
                Assert.Equal(EngineErrorCode.SessionAlreadyOpen, reopen.EngineCode);
                await Terminate(restarted);
                Assert.Equal(0, restarted.ExitCode);
            }
        }
        finally
        {
            snapshots.Delete(recursive: true);
        }
    }

    private static async Task Terminate(Process serve)
    {
        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        await serve.WaitForExitAsync(Guard());
    }
}

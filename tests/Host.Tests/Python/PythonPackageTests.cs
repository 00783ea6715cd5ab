using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Host.Tests.Python;

/// <summary>
/// The Python package's own suite (src/python/tests, pytest) run as part of this project's test command: Debian's
/// PyTorch exports modules of every kind, the Host built beside these tests serves them, and the Python client
/// checks every output against the module. pytest's exit code decides; its output is shown on failure.
/// </summary>
[Collection(PythonCollection.Name)]
public sealed class PythonPackageTests(ITestOutputHelper output)
{
    // Debian's interpreter, where python3-torch installs torch (a pyenv or venv python3 on the PATH has none).
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task The_python_package_passes_its_tests_against_debians_pytorch_and_the_built_host()
    {
        Assert.True(File.Exists(Python), $"{Python} does not exist; run scripts/setup.sh (scripts/python.sh installs python3-torch, python3-numpy and python3-pytest).");
        var info = new ProcessStartInfo(Python)
        {
            WorkingDirectory = RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-m", "pytest", "src/python/tests", "-q", "-p", "no:cacheprovider" })
        {
            info.ArgumentList.Add(argument);
        }

        // serve reads every STREAMING_* variable as a setting and refuses unknown ones (a stray STREAMING_PORT, say);
        // the servers the Python tests start run on their flags alone.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("STREAMING_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        // The tests start this build's server, not whatever src/Host/bin holds.
        info.Environment["RNN_STREAMING_HOST_DLL"] = Path.Combine(AppContext.BaseDirectory, "Streaming.Host.dll");
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        var text = new StringBuilder();
        using var pytest = new Process { StartInfo = info };
        pytest.OutputDataReceived += (_, e) => { lock (text) { text.AppendLine(e.Data); } };
        pytest.ErrorDataReceived += (_, e) => { lock (text) { text.AppendLine(e.Data); } };
        pytest.Start();
        pytest.BeginOutputReadLine();
        pytest.BeginErrorReadLine();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        try
        {
            await pytest.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            pytest.Kill(entireProcessTree: true);
            await pytest.WaitForExitAsync();
            Assert.Fail($"pytest did not finish within the guard:\n{Text(text)}");
        }

        // The asynchronous readers may still hold the last lines until the streams close.
        pytest.WaitForExit();
        output.WriteLine(Text(text));
        Assert.True(pytest.ExitCode == 0, $"pytest exited with {pytest.ExitCode}:\n{Text(text)}");
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Streaming.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Streaming.sln above {AppContext.BaseDirectory}; the Python tests live in the repository's src/python.");
    }
}

using System.CommandLine;
using Akka.Actor;
using Akka.Configuration;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Client;
using Streaming.Host.Server;

namespace Streaming.Host.Service;

/// <summary>
/// <c>generate</c>: prints a character model's continuation of a prompt as it is generated, over TCP with the .NET
/// client, from a server started in this process on the model (default: the trained example beside the program), or
/// from a running server (--host/--port; the vocabulary is still read beside --model, or the default model).
/// </summary>
internal static class GenerateCommand
{
    private static readonly Option<string> Prompt = new("--prompt") { Description = "The text to continue", Required = true };
    private static readonly Option<int> MaxTokens = new("--max-tokens") { Description = "Characters to generate at most (1 to 65,536)", DefaultValueFactory = _ => 200 };
    private static readonly Option<double?> Temperature = new("--temperature") { Description = "Sample at this temperature (default: greedy unless a sampling option is given, then 1)" };
    private static readonly Option<long?> Seed = new("--seed") { Description = "Seed of the sampling (default 0 when sampling)" };
    private static readonly Option<int?> TopK = new("--top-k") { Description = "Sample among the k most probable characters only" };
    private static readonly Option<double?> TopP = new("--top-p") { Description = "Sample among the smallest set of most probable characters whose probability reaches it" };
    private static readonly Option<string?> Host = new("--host") { Description = "Server to generate on (default: a server in this process)" };
    private static readonly Option<int> Port = new("--port") { Description = "Server port (with --host)", DefaultValueFactory = _ => 7700 };
    private static readonly Option<FileInfo?> Model = new("--model") { Description = "Model manifest with its .vocab.json beside it (default: config/models/char-english.json beside the program)" };

    /// <summary>The trained example model that serve uses by default.</summary>
    public static string DefaultModel => Path.Combine(AppContext.BaseDirectory, "config", "models", "char-english.json");

    public static Command Create()
    {
        var command = new Command("generate", "Continue a prompt with a character model and print the text as it comes.");
        foreach (var option in new Option[] { Prompt, MaxTokens, Temperature, Seed, TopK, TopP, Host, Port, Model })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellation) => RunAsync(Settings(result), Console.Out, Console.Error, cancellation));
        return command;
    }

    /// <summary>What one run asks for; <see cref="Host"/> null: a server in this process.</summary>
    internal sealed record GenerateSettings(string Prompt, int MaxTokens, Client.SamplingRule Sampling, string Model, string? Host, int Port);

    private static GenerateSettings Settings(ParseResult result)
    {
        var sampling = result.GetValue(Temperature) is null && result.GetValue(Seed) is null && result.GetValue(TopK) is null && result.GetValue(TopP) is null
            ? Client.SamplingRule.Greedy
            : Client.SamplingRule.Random(result.GetValue(Seed) ?? 0, result.GetValue(Temperature) ?? 1.0, result.GetValue(TopK), result.GetValue(TopP) ?? 1.0);
        return new GenerateSettings(result.GetValue(Prompt)!, result.GetValue(MaxTokens), sampling, result.GetValue(Model)?.FullName ?? DefaultModel,
            result.GetValue(Host), result.GetValue(Port));
    }

    /// <summary>Runs one generation and writes the prompt, then each character as it arrives, to <paramref name="output"/>; returns the exit code.</summary>
    internal static async Task<int> RunAsync(GenerateSettings settings, TextWriter output, TextWriter errors, CancellationToken cancellation)
    {
        CharVocabulary vocabulary;
        int[] prompt;
        try
        {
            vocabulary = CharVocabulary.Load(CharVocabulary.PathFor(settings.Model));
            prompt = vocabulary.Encode(settings.Prompt);
        }
        catch (Exception e) when (e is InvalidModelSpecException or IOException or ArgumentException)
        {
            await errors.WriteLineAsync($"generate: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        if (settings.Host is { } host)
        {
            return await GenerateAsync(host, settings.Port, settings, vocabulary, prompt, output, errors, cancellation).ConfigureAwait(false);
        }

        using var system = ActorSystem.Create("generate", ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
        try
        {
            RecurrentEngine engine;
            try
            {
                engine = await RecurrentEngine.StartAsync(system, settings.Model, EngineOptions.Default with { Backend = new BackendOptions(BackendKind.Managed) }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KernelCheckException or InvalidModelSpecException or IOException)
            {
                await errors.WriteLineAsync($"generate: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            await using (engine.ConfigureAwait(false))
            {
                var server = await StreamingServer.StartAsync(system, engine, ServerOptions.Default with { Host = "127.0.0.1", Port = 0 }).ConfigureAwait(false);
                await using (server.ConfigureAwait(false))
                {
                    return await GenerateAsync("127.0.0.1", server.Endpoint.Port, settings, vocabulary, prompt, output, errors, cancellation).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    private static async Task<int> GenerateAsync(string host, int port, GenerateSettings settings, CharVocabulary vocabulary, int[] prompt, TextWriter output, TextWriter errors, CancellationToken cancellation)
    {
        try
        {
            await using var client = await StreamingClient.ConnectAsync(host, port, cancellation).ConfigureAwait(false);
            if (client.Welcome.TokenKind != Client.Protocol.TokenKind.Ids || client.Welcome.InputSize != vocabulary.Count)
            {
                await errors.WriteLineAsync($"generate: the server's model '{client.Welcome.Model}' takes {client.Welcome.TokenKind} of size {client.Welcome.InputSize}; the vocabulary of {settings.Model} has {vocabulary.Count} characters. Give the server's manifest with --model.").ConfigureAwait(false);
                return 2;
            }

            var session = "generate-" + Guid.NewGuid().ToString("N");
            await client.OpenAsync(session, cancellationToken: cancellation).ConfigureAwait(false);
            await output.WriteAsync(settings.Prompt).ConfigureAwait(false);
            var request = Client.GenerationRequest.Of(settings.MaxTokens, prompt) with { Sampling = settings.Sampling };
            await foreach (var step in client.GenerateAsync(session, request, cancellation).ConfigureAwait(false))
            {
                await output.WriteAsync(vocabulary.Decode([step.TokenId!.Value])).ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await output.WriteLineAsync().ConfigureAwait(false);
            // Even after a cancelled generation: the session it opened is closed.
            await client.CloseAsync(session, CancellationToken.None).ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is StreamingClientException or System.Net.Sockets.SocketException or IOException)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
            await errors.WriteLineAsync($"generate: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}

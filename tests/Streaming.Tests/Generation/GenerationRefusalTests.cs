using Streaming.Cells.Model;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Generation;

/// <summary>Bad requests and models that cannot generate are refused with a message naming what is wrong, and change nothing.</summary>
public sealed class GenerationRefusalTests
{
    public static TheoryData<string, string> BadRequests() => new()
    {
        { "max steps 0", "MaxSteps is 0" },
        { "max steps negative", "MaxSteps is -3" },
        { "max steps above the limit", "MaxSteps is 65537; expected 1 to 65536" },
        { "temperature 0", "Sampling.Temperature is 0" },
        { "temperature negative", "Sampling.Temperature is -1" },
        { "temperature NaN", "Sampling.Temperature is NaN" },
        { "top-k 0", "Sampling.TopK is 0" },
        { "top-p 0", "Sampling.TopP is 0" },
        { "top-p above 1", "Sampling.TopP is 1.5" },
        { "top-p NaN", "Sampling.TopP is NaN" },
        { "stop id negative", "StopIds[1] is -1; expected an id in 0..19" },
        { "stop id beyond the vocabulary", "StopIds[0] is 20; expected an id in 0..19" },
        { "report top negative", "ReportTop is -1" },
        { "report top beyond the vocabulary", "ReportTop is 21; expected 0 to 20" },
        { "prompt id beyond the vocabulary", "Prompt[1] is the id 20" },
        { "prompt vector for an id model", "Prompt[0] is a vector of 6 values" },
        { "prompt token with a position", "Prompt[0] has the position (At) 0" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_is_refused_naming_the_field_and_the_session_is_untouched(string name, string message)
    {
        await using var scope = await EngineScope.StartAsync(TestModels.EmbeddingHead);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", Token.Id(3));

        var error = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.CollectAsync("a", BadRequest(name)));

        Assert.Equal(EngineErrorCode.InvalidInput, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await scope.Engine.SnapshotAsync("a")).Position);
    }

    public static TheoryData<string, string> ModelsThatCannotGenerate() => new()
    {
        { "vector output larger than the input", "the model's output has 8 values but its input_size is 5" },
        { "bidirectional", "the model is bidirectional" },
        { "embedding without a head", "has an embedding (20 ids) but no head" },
        { "head of another size", "the head has out_features 7 but the embedding has num_embeddings 20" },
    };

    [Theory]
    [MemberData(nameof(ModelsThatCannotGenerate))]
    public async Task A_model_that_cannot_generate_is_refused_saying_why(string name, string message)
    {
        var spec = name switch
        {
            "vector output larger than the input" => TestModels.Lstm2,
            "bidirectional" => TestModels.BidirectionalGru,
            "embedding without a head" => TestModels.EmbeddingHead with { Head = null },
            _ => TestModels.EmbeddingHead with { Head = new HeadSpec(OutFeatures: 7) },
        };
        await using var scope = await EngineScope.StartAsync(spec);
        await scope.Engine.OpenAsync("a");

        var error = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.CollectAsync("a", GenerationRequest.Of(5)));

        Assert.Equal(EngineErrorCode.GenerationNotSupported, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await scope.Engine.SnapshotAsync("a")).Position);
    }

    [Fact]
    public async Task Sampling_stop_ids_and_top_ids_are_refused_for_a_vector_model()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.RnnTanh, InputSize: 4, HiddenSize: 4));
        await using var scope = await EngineScope.StartAsync(spec);
        await scope.Engine.OpenAsync("a");

        foreach (var (request, message) in new[]
        {
            (GenerationRequest.Of(3) with { Sampling = SamplingRule.Random(1) }, "Sampling is random(seed 1"),
            (GenerationRequest.Of(3) with { StopIds = [0] }, "StopIds has 1 id(s)"),
            (GenerationRequest.Of(3) with { ReportTop = 2 }, "ReportTop is 2"),
        })
        {
            var error = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.CollectAsync("a", request));
            Assert.Equal(EngineErrorCode.InvalidInput, error.Code);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_generation_in_a_session_that_is_not_open_is_refused_as_unknown()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.EmbeddingHead);

        var error = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.CollectAsync("nobody", GenerationRequest.Of(5)));

        Assert.Equal(EngineErrorCode.UnknownSession, error.Code);
    }

    private static GenerationRequest BadRequest(string name)
    {
        var plain = GenerationRequest.Of(5, Token.Id(1));
        var random = SamplingRule.Random(1);
        return name switch
        {
            "max steps 0" => plain with { MaxSteps = 0 },
            "max steps negative" => plain with { MaxSteps = -3 },
            "max steps above the limit" => plain with { MaxSteps = GenerationRequest.MaxStepsLimit + 1 },
            "temperature 0" => plain with { Sampling = random with { Temperature = 0 } },
            "temperature negative" => plain with { Sampling = random with { Temperature = -1 } },
            "temperature NaN" => plain with { Sampling = random with { Temperature = double.NaN } },
            "top-k 0" => plain with { Sampling = random with { TopK = 0 } },
            "top-p 0" => plain with { Sampling = random with { TopP = 0 } },
            "top-p above 1" => plain with { Sampling = random with { TopP = 1.5 } },
            "top-p NaN" => plain with { Sampling = random with { TopP = double.NaN } },
            "stop id negative" => plain with { StopIds = [3, -1] },
            "stop id beyond the vocabulary" => plain with { StopIds = [20] },
            "report top negative" => plain with { ReportTop = -1 },
            "report top beyond the vocabulary" => plain with { ReportTop = 21 },
            "prompt id beyond the vocabulary" => plain with { Prompt = [Token.Id(2), Token.Id(20)] },
            "prompt vector for an id model" => plain with { Prompt = [Token.Vector(new float[6])] },
            "prompt token with a position" => plain with { Prompt = [Token.Id(2).WithAt(0)] },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }
}

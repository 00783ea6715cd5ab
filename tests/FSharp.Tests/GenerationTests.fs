module Streaming.FSharp.Tests.GenerationTests

open System
open Akka.Actor
open Akka.Streams
open Akka.Streams.Dsl
open Xunit
open Streaming
open Streaming.Cells.Model
open Streaming.Cells.Weights

let private spec =
    ModelSpec(RecurrentSpec(RecurrentMode.Lstm, 6, 10), EmbeddingSpec(16, 6), HeadSpec(16))
let private weights = ModelWeights.CreateRandom(spec, 11)
let private model = ModelIdentity.Of("fsharp-generator", weights)

[<Fact>]
let ``An F# user streams a sampled generation as a source and the session is then as if its ids were pushed`` () =
    task {
        use system = ActorSystem.Create "fsharp-generate"
        let! engine = RecurrentEngine.StartAsync(system, model, weights)
        try
            do! engine.OpenAsync "g"
            do! engine.OpenAsync "p"
            let prompt = [| 3; 1; 4 |] |> Array.map Token.Id
            let request =
                GenerationRequest(20, Prompt = prompt, Sampling = SamplingRule.Random(7L, temperature = 0.9, topK = Nullable 8), ReportTop = 2)
            let! steps = engine.Generate("g", request).RunWith(Sink.Seq<GenerationStep>(), system.Materializer())

            Assert.Equal(20, steps.Count)
            steps |> Seq.iteri (fun i step ->
                Assert.Equal(i, step.Step)
                Assert.Equal(int64 (3 + i + 1), step.Position)
                Assert.Equal(2, step.Top.Count)
                Assert.InRange(step.Probability.Value, 0.0, 1.0))
            // The same ids pushed one by one give the same state, bit for bit: each step's logits are the previous push's output.
            let pushed = Seq.append prompt (steps |> Seq.map (fun s -> Token.Id s.TokenId.Value)) |> Array.ofSeq
            let outputs = Collections.Generic.List<TokenOutput>()
            for token in pushed do
                let! output = engine.PushAsync("p", token)
                outputs.Add output
            steps |> Seq.iteri (fun i step ->
                Assert.Equal<float32>(outputs.[2 + i].Output.ToArray(), step.Output.ToArray()))
            let! generated = engine.SnapshotAsync "g"
            let! byHand = engine.SnapshotAsync "p"
            Assert.Equal(byHand.Position, generated.Position)
            Assert.Equal<float32>(byHand.Layers.[0].H.ToArray(), generated.Layers.[0].H.ToArray())
        finally
            engine.DisposeAsync().AsTask().Wait()
            system.Terminate().Wait()
    }

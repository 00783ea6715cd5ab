module Streaming.FSharp.Tests.EngineTests

open System
open Akka.Actor
open Akka.Streams
open Akka.Streams.Dsl
open Xunit
open Streaming
open Streaming.Cells.Backends
open Streaming.Cells.Model
open Streaming.Cells.Sequences
open Streaming.Cells.Weights

let private spec = ModelSpec(RecurrentSpec(RecurrentMode.Lstm, 4, 8, NumLayers = 2))
let private weights = ModelWeights.CreateRandom(spec, 7)
let private model = ModelIdentity.Of("fsharp-lstm", weights)

let private inputs steps seed =
    let random = Random(seed: int)
    Array.init steps (fun _ -> Array.init 4 (fun _ -> float32 (random.NextDouble() * 2.0 - 1.0)))

let private tokens (vectors: float32[][]) = vectors |> Array.map (fun v -> Token.Vector(ReadOnlyMemory v))

/// What PyTorch's module gives for the whole sequence at once, from a given state (or zeros).
let private bulk (vectors: float32[][]) (h0: float32[]) (c0: float32[]) =
    use reference = new RecurrentModel(RecurrentBackends.Create(weights, BackendOptions.Managed))
    let request =
        SequenceInput.FromVectors(ReadOnlyMemory(Array.concat vectors), vectors.Length, 1, h0 = ReadOnlyMemory h0, c0 = ReadOnlyMemory c0)
    reference.Forward(request).Output.ToArray() |> Array.chunkBySize spec.OutputSize

let private assertClose (expected: float32[]) (actual: float32[]) =
    Assert.Equal(expected.Length, actual.Length)
    Array.iter2 (fun (e: float32) (a: float32) -> Assert.True(abs (e - a) <= 1e-5f, sprintf "expected %g, got %g" e a)) expected actual

/// Runs the body with a started engine and always shuts both down.
let private withEngine name (body: ActorSystem -> RecurrentEngine -> Threading.Tasks.Task<unit>) =
    task {
        use system = ActorSystem.Create(name: string)
        let! engine = RecurrentEngine.StartAsync(system, model, weights)
        try
            do! body system engine
        finally
            engine.DisposeAsync().AsTask().Wait()
            system.Terminate().Wait()
    }

[<Fact>]
let ``An F# user streams tokens through a session flow and gets PyTorch's outputs in order`` () =
    withEngine "fsharp-flow" (fun system engine ->
        task {
            do! engine.OpenAsync "a"
            let sequence = inputs 12 1
            let! outputs =
                Source.From(tokens sequence)
                    .Via(engine.SessionFlow "a")
                    .RunWith(Sink.Seq<TokenOutput>(), system.Materializer())
            let expected = bulk sequence [||] [||]
            outputs |> Seq.iteri (fun i output ->
                Assert.Equal(int64 (i + 1), output.Position)
                assertClose expected.[i] (output.Output.ToArray()))
        })

[<Fact>]
let ``A snapshot restored into another engine continues exactly where the original goes on`` () =
    withEngine "fsharp-original" (fun _ original ->
        task {
            do! original.OpenAsync "a"
            for token in tokens (inputs 5 2) do
                let! _ = original.PushAsync("a", token)
                ()
            let! snapshot = original.SnapshotAsync "a"
            let carried = SessionSnapshot.FromBytes(ReadOnlySpan(snapshot.ToBytes()))
            let continuation = tokens (inputs 4 3)

            use otherSystem = ActorSystem.Create "fsharp-restored"
            let! restored = RecurrentEngine.StartAsync(otherSystem, model, weights)
            try
                do! restored.RestoreAsync("b", carried)
                for token in continuation do
                    let! fromOriginal = original.PushAsync("a", token)
                    let! fromRestored = restored.PushAsync("b", token)
                    Assert.Equal(fromOriginal.Position, fromRestored.Position)
                    Assert.Equal<float32>(fromOriginal.Output.ToArray(), fromRestored.Output.ToArray())
            finally
                restored.DisposeAsync().AsTask().Wait()
                otherSystem.Terminate().Wait()
        })

[<Fact>]
let ``Replay gives the bulk outputs, and tokens then continue from its final state`` () =
    withEngine "fsharp-replay" (fun _ engine ->
        task {
            do! engine.OpenAsync "r"
            let sequence = inputs 9 4
            let h0 = Array.init (2 * 8) (fun i -> float32 i / 40.0f)
            let c0 = Array.init (2 * 8) (fun i -> -float32 i / 50.0f)
            let! replayed = engine.ReplayAsync("r", tokens sequence.[.. 5], InitialState(ReadOnlyMemory h0, ReadOnlyMemory c0))
            let! rest =
                sequence.[6 ..]
                |> Array.map (fun v -> engine.PushAsync("r", Token.Vector(ReadOnlyMemory v)))
                |> Threading.Tasks.Task.WhenAll
            let expected = bulk sequence h0 c0
            Assert.Equal(6L, replayed.Position)
            replayed.Outputs |> Seq.iteri (fun i output -> assertClose expected.[i] (output.ToArray()))
            rest |> Array.iteri (fun i output ->
                Assert.Equal(int64 (7 + i), output.Position)
                assertClose expected.[6 + i] (output.Output.ToArray()))
        })

[<Fact>]
let ``A token of the wrong size is refused with InvalidInput and the session goes on`` () =
    withEngine "fsharp-errors" (fun _ engine ->
        task {
            do! engine.OpenAsync "e"
            let! error =
                Assert.ThrowsAsync<EngineException>(fun () ->
                    engine.PushAsync("e", Token.Vector(ReadOnlyMemory [| 1.0f; 2.0f |])) :> Threading.Tasks.Task)
            Assert.Equal(EngineErrorCode.InvalidInput, error.Code)
            let sequence = inputs 3 5
            let! outputs = sequence |> Array.map (fun v -> engine.PushAsync("e", Token.Vector(ReadOnlyMemory v))) |> Threading.Tasks.Task.WhenAll
            let expected = bulk sequence [||] [||]
            outputs |> Array.iteri (fun i output -> assertClose expected.[i] (output.Output.ToArray()))
        })

module Streaming.FSharp.Tests.ResendTests

open System
open Akka.Actor
open Xunit
open Streaming
open Streaming.Cells.Model
open Streaming.Cells.Weights
open Streaming.Client
open Streaming.Client.Protocol
open Streaming.Host.Server

let private spec = ModelSpec(RecurrentSpec(RecurrentMode.Gru, 3, 6))
let private weights = ModelWeights.CreateRandom(spec, 11)
let private model = ModelIdentity.Of("fsharp-gru", weights)

let private inputs steps seed =
    let random = Random(seed: int)
    Array.init steps (fun _ -> Array.init 3 (fun _ -> float32 (random.NextDouble() * 2.0 - 1.0)))

/// What became of a token pushed at a position, as an F# user would model it.
type private Pushed =
    | Applied of TokenReply
    | AlreadyApplied of next: int64
    | Missing of resendFrom: int64

/// Pushes a token at its position; a resend or a gap becomes a value, any other refusal stays an exception.
let private pushAt (client: StreamingClient) session (position: int64) (vector: float32[]) =
    task {
        try
            let! output = client.PushAsync(session, TokenInput.Vector(ReadOnlyMemory vector), position = position)
            return Applied output
        with
        | :? StreamingClientException as e when e.SessionCode = Nullable SessionErrorCode.DuplicateToken -> return AlreadyApplied e.Position.Value
        | :? StreamingClientException as e when e.SessionCode = Nullable SessionErrorCode.PositionAhead -> return Missing e.Position.Value
    }

/// Runs the body with an engine served over TCP and a client connected to it; always shuts all down.
let private withClient name (body: RecurrentEngine -> StreamingClient -> Threading.Tasks.Task<unit>) =
    task {
        use system = ActorSystem.Create(name: string)
        let! engine = RecurrentEngine.StartAsync(system, model, weights)
        try
            let! server = StreamingServer.StartAsync(system, engine, ServerOptions(Host = "127.0.0.1", Port = 0))
            try
                let! client = StreamingClient.ConnectAsync("127.0.0.1", server.Endpoint.Port)
                try
                    do! body engine client
                finally
                    client.DisposeAsync().AsTask().Wait()
            finally
                server.StopAsync().Wait()
        finally
            engine.DisposeAsync().AsTask().Wait()
            system.Terminate().Wait()
    }

[<Fact>]
let ``Tokens pushed with positions: a resend is answered DuplicateToken and not applied, a gap names where to resend from`` () =
    withClient "fsharp-positions" (fun engine client ->
        task {
            let sequence = inputs 5 6
            // The same tokens once each, without positions, straight into the engine: what the session must give.
            do! engine.OpenAsync "ref"
            let expected = ResizeArray<float32[]>()
            for vector in sequence do
                let! output = engine.PushAsync("ref", Token.Vector(ReadOnlyMemory vector))
                expected.Add(output.Output.ToArray())

            do! client.OpenAsync "p"
            let! first = pushAt client "p" 0L sequence.[0]
            let! second = pushAt client "p" 1L sequence.[1]
            let! resent = pushAt client "p" 1L sequence.[1]
            let! gap = pushAt client "p" 4L sequence.[4]
            let rest = ResizeArray()
            for position in 2 .. 4 do
                match! pushAt client "p" (int64 position) sequence.[position] with
                | Applied output -> rest.Add output
                | other -> failwithf "token %d was not applied: %A" position other

            match first, second, resent, gap with
            | Applied a, Applied b, AlreadyApplied next, Missing from ->
                Assert.Equal(2L, next)
                Assert.Equal(2L, from)
                [ a; b ] @ List.ofSeq rest
                |> List.iteri (fun i output ->
                    Assert.Equal(int64 (i + 1), output.Position)
                    Assert.Equal<float32>(expected.[i], output.Output.ToArray()))
            | other -> failwithf "unexpected answers: %A" other
        })

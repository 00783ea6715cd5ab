module Streaming.FSharp.Tests.SnapshotTests

open System
open Xunit
open Streaming
open Streaming.Cells.Model

let private model = ModelIdentity("char-lstm", String('c', 64))

let private snapshot =
    SessionSnapshot(
        model,
        42L,
        [| LayerState(ReadOnlyMemory [| 0.25f; -1.5f |], ReadOnlyMemory [| 1.0f; 2.0f; 3.0f; 4.0f |]) |])

[<Fact>]
let ``A snapshot survives bytes and JSON unchanged`` () =
    for restored in [ SessionSnapshot.FromBytes(ReadOnlySpan(snapshot.ToBytes())); SessionSnapshot.FromJson(snapshot.ToJson()) ] do
        Assert.Equal(snapshot.Model, restored.Model)
        Assert.Equal(42L, restored.Position)
        Assert.Equal<float32>(snapshot.HiddenState(), restored.HiddenState())
        Assert.Equal<float32>(snapshot.CellState(), restored.CellState())

[<Fact>]
let ``A snapshot of another model is refused with a ModelMismatch that names both`` () =
    let spec = RecurrentSpec(RecurrentMode.Lstm, 3, 4, ProjSize = 2)
    let other = ModelIdentity(model.Name, String('d', 64))
    let error = Assert.Throws<EngineException>(fun () -> snapshot.EnsureFits(other, spec))
    Assert.Equal(EngineErrorCode.ModelMismatch, error.Code)
    Assert.Contains("cccccccccccc", error.Message)
    Assert.Contains("dddddddddddd", error.Message)

using FsCheck;
using FsCheck.Fluent;
using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Contract;

/// <summary>A randomly drawn model and input for property tests; shrinks towards small models.</summary>
public sealed record RandomCase(RecurrentSpec Spec, int Steps, int Batch, bool GivenState, int Seed)
{
    public override string ToString() =>
        $"{Spec.Mode.ToTorchName()} in={Spec.InputSize} hidden={Spec.HiddenSize} layers={Spec.NumLayers} bias={Spec.Bias} " +
        $"bidir={Spec.Bidirectional} proj={Spec.ProjSize} steps={Steps} batch={Batch} state={GivenState} seed={Seed}";
}

/// <summary>FsCheck generators for <see cref="RandomCase"/>.</summary>
public static class RandomCaseArbitrary
{
    public static Arbitrary<RandomCase> Cases()
    {
        var specs =
            from mode in Gen.Elements(Enum.GetValues<RecurrentMode>())
            from input in Gen.Choose(1, 9)
            from hidden in Gen.Choose(1, 12)
            from layers in Gen.Choose(1, 3)
            from bias in Gen.Elements(true, false)
            from bidirectional in Gen.Elements(true, false)
            from projDraw in Gen.Choose(0, 11)
            let proj = mode == RecurrentMode.Lstm && projDraw < hidden ? projDraw : 0
            select new RecurrentSpec(mode, input, hidden, layers, bias, bidirectional, proj);
        var cases =
            from spec in specs
            from steps in Gen.Choose(1, 7)
            from batch in Gen.Choose(1, 4)
            from givenState in Gen.Elements(true, false)
            from seed in Gen.Choose(0, 1_000_000)
            select new RandomCase(spec, steps, batch, givenState, seed);
        return cases.ToArbitrary();
    }
}

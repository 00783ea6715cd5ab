using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>
/// The float64 reference is the ground truth; libtorch's own modules confirm the transcription wherever the kernel
/// check verified their library kernels on the machine running the test. Where it did not (libtorch 2.10's oneDNN LSTM
/// on AMD Zen 5 with AVX-512), the module is no oracle, and the Torch backend must be serving another path that
/// agrees with the reference.
/// </summary>
public sealed class OracleAgreementTests
{
    [Theory]
    [InlineData(RecurrentMode.RnnTanh, true, false)]
    [InlineData(RecurrentMode.RnnRelu, false, true)]
    [InlineData(RecurrentMode.Lstm, true, true)]
    [InlineData(RecurrentMode.Lstm, false, false)]
    [InlineData(RecurrentMode.Gru, true, true)]
    [InlineData(RecurrentMode.Gru, false, false)]
    public void Libtorch_modules_agree_with_the_float64_reference_where_the_kernel_check_verified_them(RecurrentMode mode, bool bias, bool bidirectional)
    {
        var spec = new RecurrentSpec(mode, InputSize: 5, HiddenSize: 7, NumLayers: 2, Bias: bias, Bidirectional: bidirectional);
        using var oracle = ModuleOracle.Create(spec, seed: 11);
        var random = new Random(3);
        const int steps = 6, batch = 3;
        var input = RandomWeights.Vector(random, steps * batch * spec.InputSize);
        var stateCount = spec.NumLayers * spec.Directions * batch * spec.HiddenSize;
        var h0 = RandomWeights.Vector(random, stateCount, 0.5);
        var c0 = spec.HasCellState ? RandomWeights.Vector(random, stateCount, 0.5) : null;
        var reference = Float64Reference.Run(oracle.Weights, input, steps, batch, h0, c0);

        var report = RecurrentBackends.CheckEveryPath(oracle.Weights, BackendOptions.TorchCpu);
        var library = report.Trials.Where(t => t.Role == Cells.Backends.KernelRole.Bulk && t.Path.StartsWith("libtorch-", StringComparison.Ordinal)).ToList();
        Assert.Equal(spec.NumLayers, library.Count);
        if (library.All(t => t.Passed))
        {
            var module = oracle.RunModule(input, steps, batch, h0, c0);
            Compare.Close(reference.Output, module.Output, "libtorch output");
            Compare.Close(reference.HN, module.HN, "libtorch h_n");
            Compare.Close(reference.CN, module.CN, "libtorch c_n");
        }
        else
        {
            // The library kernel is wrong here: the backend must not serve it, and what it serves must be right.
            using var backend = RecurrentBackends.Create(oracle.Weights, BackendOptions.TorchCpu);
            Assert.DoesNotContain(backend.Kernels.Chosen, t => t.Role == Cells.Backends.KernelRole.Bulk && !library.Single(l => l.Layer == t.Layer).Passed && t.Path == library.Single(l => l.Layer == t.Layer).Path);
            var served = new Cells.Sequences.RecurrentModel(backend, ownsBackend: false).Forward(
                Cells.Sequences.SequenceInput.FromVectors(input, steps, batch) with { H0 = h0, C0 = c0 ?? ReadOnlyMemory<float>.Empty });
            Compare.Close(reference.Output, served.Output.Span, "served output");
            Compare.Close(reference.HN, served.HN.Span, "served h_n");
        }
    }
}

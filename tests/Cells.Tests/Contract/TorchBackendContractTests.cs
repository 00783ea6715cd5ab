using Streaming.Cells.Backends;

namespace Streaming.Cells.Tests.Contract;

public sealed class TorchBackendContractTests : BackendContractTests
{
    // CPU always; CUDA as well on a machine that has it (and a CUDA build of TorchSharp).
    protected override IReadOnlyList<BackendOptions> Configurations { get; } =
        TorchSharp.torch.cuda.is_available()
            ? [BackendOptions.TorchCpu, BackendOptions.TorchCpu with { Device = "cuda" }]
            : [BackendOptions.TorchCpu];
}

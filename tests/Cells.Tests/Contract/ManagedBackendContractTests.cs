using Streaming.Cells.Backends;

namespace Streaming.Cells.Tests.Contract;

public sealed class ManagedBackendContractTests : BackendContractTests
{
    // Every kernel width on every machine: the widest this CPU accelerates, and each width forced (Vector512 runs
    // on .NET's emulation where AVX-512 is missing), so a CPU without AVX-512 or AVX2 stays covered.
    protected override IReadOnlyList<BackendOptions> Configurations { get; } =
    [
        BackendOptions.Managed,
        BackendOptions.Managed with { Width = KernelWidth.Vector512 },
        BackendOptions.Managed with { Width = KernelWidth.Vector256 },
        BackendOptions.Managed with { Width = KernelWidth.Scalar },
    ];
}

using Streaming.Cells.Backends;

namespace Streaming.Cells.Tests.Contract;

public sealed class ManagedBackendContractTests : BackendContractTests
{
    protected override IReadOnlyList<BackendOptions> Configurations { get; } = [BackendOptions.Managed];
}

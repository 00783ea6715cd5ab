namespace Host.Tests.Python;

/// <summary>
/// The Python suite starts a dozen `serve` processes and PyTorch on a 2-core machine: it runs alone, after the
/// parallel tests, so neither slows the other into a timeout.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PythonCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Python package";
}

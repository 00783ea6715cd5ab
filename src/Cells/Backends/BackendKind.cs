namespace Streaming.Cells.Backends;

/// <summary>Which implementation computes the cells.</summary>
public enum BackendKind
{
    /// <summary>Pure .NET: TensorPrimitives and the project's own SIMD matrix kernel. No native dependency.</summary>
    Managed,

    /// <summary>TorchSharp (libtorch) on a CPU or CUDA device.</summary>
    Torch,
}

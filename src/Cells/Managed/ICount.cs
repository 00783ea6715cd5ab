namespace Streaming.Cells.Managed;

/// <summary>
/// A compile-time count: kernels generic over a struct implementing it are specialised by the JIT per
/// count, so <c>if (T.Value &gt; 3)</c> branches and unused accumulators vanish from the machine code.
/// </summary>
internal interface ICount
{
    static abstract int Value { get; }
}

namespace Streaming.Cells.Managed;

/// <summary>
/// A compile-time count: kernels generic over a struct implementing it are specialised by the JIT per
/// count, so <c>if (T.Value &gt; 3)</c> branches and unused accumulators vanish from the machine code.
/// </summary>
internal interface ICount
{
    static abstract int Value { get; }
}

internal readonly struct Count1 : ICount { public static int Value => 1; }

internal readonly struct Count2 : ICount { public static int Value => 2; }

internal readonly struct Count3 : ICount { public static int Value => 3; }

internal readonly struct Count4 : ICount { public static int Value => 4; }

internal readonly struct Count5 : ICount { public static int Value => 5; }

internal readonly struct Count6 : ICount { public static int Value => 6; }

namespace Streaming.Cells.Managed;

// The counts the kernels are specialised for: rows per tile (1-6) and panels per row pass (1-4).

internal readonly struct Count1 : ICount { public static int Value => 1; }

internal readonly struct Count2 : ICount { public static int Value => 2; }

internal readonly struct Count3 : ICount { public static int Value => 3; }

internal readonly struct Count4 : ICount { public static int Value => 4; }

internal readonly struct Count5 : ICount { public static int Value => 5; }

internal readonly struct Count6 : ICount { public static int Value => 6; }

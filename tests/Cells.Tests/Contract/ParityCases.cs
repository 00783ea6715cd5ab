using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Contract;

/// <summary>The configuration grid the brief asks for: every mode x bias x layers 1-3 x bidirectional x batch_first.</summary>
internal static class ParityCases
{
    public static IEnumerable<object[]> EveryModeBiasLayersDirectionLayout()
    {
        foreach (var mode in Enum.GetValues<RecurrentMode>())
        {
            foreach (var bias in new[] { true, false })
            {
                for (var layers = 1; layers <= 3; layers++)
                {
                    foreach (var bidirectional in new[] { false, true })
                    {
                        foreach (var batchFirst in new[] { false, true })
                        {
                            yield return [mode, bias, layers, bidirectional, batchFirst];
                        }
                    }
                }
            }
        }
    }

    public static IEnumerable<object[]> ProjectionGrid()
    {
        foreach (var bias in new[] { true, false })
        {
            for (var layers = 1; layers <= 3; layers++)
            {
                foreach (var bidirectional in new[] { false, true })
                {
                    yield return [bias, layers, bidirectional];
                }
            }
        }
    }

    /// <summary>Unidirectional specs that can be stepped, projection included.</summary>
    public static IEnumerable<object[]> SteppableSpecs()
    {
        foreach (var mode in Enum.GetValues<RecurrentMode>())
        {
            yield return [mode, 0];
        }

        yield return [RecurrentMode.Lstm, 4];
    }

    /// <summary>Every mode, one and two directions, with a projection and with a head: every role the kernel check chooses for.</summary>
    public static IEnumerable<object[]> KernelCheckSpecs()
    {
        foreach (var mode in Enum.GetValues<RecurrentMode>())
        {
            yield return [mode, false, 0, false];
            yield return [mode, true, 0, mode == RecurrentMode.Gru];
        }

        yield return [RecurrentMode.Lstm, false, 5, true];
        yield return [RecurrentMode.Lstm, true, 5, false];
    }
}

using Streaming.Persistence;
using Streaming.Sessions;

namespace Streaming.Tests.Sessions;

/// <summary>
/// The ring of a session's kept outputs against a plain list of (position, row): random appends of one or many rows,
/// drops and clears, with the ring wrapping, growing and overflowing its capacity many times over.
/// </summary>
public sealed class OutputWindowTests
{
    private const int Width = 3;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(64, 4)]
    public void Keeps_what_a_list_of_the_last_outputs_keeps(int capacity, int seed)
    {
        var random = new Random(seed);
        var window = new OutputWindow(Width, capacity);
        var expected = new List<(long Position, float[] Row)>();
        var next = 0L;
        for (var operation = 0; operation < 5_000; operation++)
        {
            switch (random.Next(10))
            {
                case < 6:
                    // One token, or a replay of up to twice the capacity (only its last rows can stay).
                    var steps = random.Next(4) == 0 ? random.Next(1, 2 * capacity + 2) : 1;
                    var rows = Enumerable.Range(0, steps).Select(_ => Row(random)).ToArray();
                    window.Append(next, rows.SelectMany(r => r).ToArray());
                    expected.AddRange(rows.Select((row, i) => (next + i, row)));
                    next += steps;
                    expected.RemoveRange(0, Math.Max(0, expected.Count - capacity));
                    break;
                case < 9 when expected.Count > 0:
                    var from = random.Next((int)expected[0].Position, (int)next + 1);
                    window.DropBefore(from);
                    expected.RemoveAll(e => e.Position < from);
                    if (expected.Count == 0)
                    {
                        // A window with nothing kept starts afresh at the next append's position.
                        next = from;
                    }

                    break;
                case 9:
                    window.Clear();
                    expected.Clear();
                    next += random.Next(3);
                    break;
            }

            Assert.Equal(expected.Count, window.Count);
            if (expected.Count > 0)
            {
                Assert.Equal(expected[0].Position, window.First);
                Assert.Equal(next, window.End);
            }

            foreach (var (position, row) in expected)
            {
                Assert.Equal(row, window.At(position));
            }

            Assert.Null(window.At(next));
            if (expected.Count > 0)
            {
                Assert.Null(window.At(expected[0].Position - 1));
            }

            var recent = window.ToRecent();
            if (expected.Count == 0)
            {
                Assert.Null(recent);
            }
            else
            {
                Assert.Equal(new RecentOutputs(expected[0].Position, Width, default).First, recent!.First);
                Assert.Equal(expected.SelectMany(e => e.Row).ToArray(), recent.Values.ToArray());
            }
        }
    }

    [Fact]
    public void Loads_the_last_rows_of_a_stored_copy_and_none_of_another_width()
    {
        var stored = new RecentOutputs(10, Width, Enumerable.Range(0, 5 * Width).Select(i => (float)i).ToArray());
        var window = new OutputWindow(Width, capacity: 4);
        window.Load(stored, count: 2);
        Assert.Equal(13, window.First);
        Assert.Equal(15, window.End);
        Assert.Equal(new float[] { 9, 10, 11 }, window.At(13));
        Assert.Equal(new float[] { 12, 13, 14 }, window.At(14));

        window.Load(new RecentOutputs(0, Width + 1, new float[Width + 1]), count: 1);
        Assert.Equal(0, window.Count);
        Assert.Null(window.ToRecent());
    }

    private static float[] Row(Random random) => Enumerable.Range(0, Width).Select(_ => (float)random.NextDouble()).ToArray();
}

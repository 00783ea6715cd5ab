using Streaming.Persistence;

namespace Streaming.Sessions;

/// <summary>
/// The outputs of a session's most recent tokens, in a ring of at most <c>capacity</c> rows that grows as tokens come
/// (a session that took few tokens holds few rows): the shell keeps them as <see cref="SessionMachine"/> says, and
/// they go into the session's stored copy, so that a resent token is answered with its original output.
/// </summary>
internal sealed class OutputWindow(int width, int capacity)
{
    private float[] _rows = [];
    // Rows in _rows (its length over the width), kept so that the hot path divides by nothing.
    private int _rowCount;
    private int _start;

    /// <summary>The position of the oldest output kept.</summary>
    public long First { get; private set; }

    /// <summary>How many outputs are kept.</summary>
    public int Count { get; private set; }

    /// <summary>The position after the newest output kept.</summary>
    public long End => First + Count;

    /// <summary>Adds the outputs of positions <paramref name="first"/> on (rows of the width), after those kept; the oldest go beyond the capacity.</summary>
    public void Append(long first, ReadOnlySpan<float> outputs)
    {
        System.Diagnostics.Debug.Assert(Count == 0 || first == End, "outputs are kept in the stream's order");
        if (Count == 0)
        {
            First = first;
            _start = 0;
        }

        var steps = outputs.Length / width;
        // Only the last capacity rows of a long replay can stay.
        var skip = Math.Max(0, steps - capacity);
        if (skip > 0)
        {
            First = first + skip;
            Count = 0;
            _start = 0;
        }

        for (var step = skip; step < steps; step++)
        {
            if (Count == capacity)
            {
                DropBefore(First + 1);
            }
            else if (Count == _rowCount)
            {
                Grow();
            }

            outputs.Slice(step * width, width).CopyTo(Row(Count));
            Count++;
        }
    }

    /// <summary>Forgets the outputs before <paramref name="position"/>.</summary>
    public void DropBefore(long position)
    {
        var drop = (int)Math.Clamp(position - First, 0, Count);
        if (drop == Count)
        {
            First = position;
            Count = 0;
            _start = 0;
            return;
        }

        _start = Wrap(_start + drop);
        First += drop;
        Count -= drop;
    }

    /// <summary>Forgets every output; the next kept start anywhere. Frees the rows.</summary>
    public void Clear()
    {
        _rows = [];
        _rowCount = 0;
        _start = 0;
        Count = 0;
    }

    /// <summary>The output of the token at <paramref name="position"/>, a copy; null when it is not kept.</summary>
    public float[]? At(long position) =>
        position >= First && position < End ? Row((int)(position - First)).ToArray() : null;

    /// <summary>The outputs kept, for the session's stored copy; null when none.</summary>
    public RecentOutputs? ToRecent()
    {
        if (Count == 0)
        {
            return null;
        }

        var values = new float[Count * width];
        for (var i = 0; i < Count; i++)
        {
            Row(i).CopyTo(values.AsSpan(i * width));
        }

        return new RecentOutputs(First, width, values);
    }

    /// <summary>Keeps the last <paramref name="count"/> of <paramref name="outputs"/> (a loaded session's).</summary>
    public void Load(RecentOutputs outputs, int count)
    {
        Clear();
        if (outputs.Width != width)
        {
            // Another model's outputs cannot be this session's (the store keys sessions by model): keep none.
            return;
        }

        var skip = outputs.Count - count;
        Append(outputs.First + skip, outputs.Values.Span[(skip * width)..]);
    }

    private void Grow()
    {
        var rows = Math.Min(capacity, Math.Max(4, 2 * _rowCount));
        var grown = new float[rows * width];
        for (var i = 0; i < Count; i++)
        {
            Row(i).CopyTo(grown.AsSpan(i * width));
        }

        _rows = grown;
        _rowCount = rows;
        _start = 0;
    }

    // The i-th kept row (0 is the oldest; Count is the next one's place) in the ring.
    private Span<float> Row(int i) => _rows.AsSpan(Wrap(_start + i) * width, width);

    // An index below twice the ring's rows, wrapped into the ring.
    private int Wrap(int index) => index >= _rowCount ? index - _rowCount : index;
}

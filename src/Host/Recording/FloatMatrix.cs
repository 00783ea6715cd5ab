namespace Streaming.Host.Recording;

/// <summary>
/// A 2-D array of floats, row-major, as a recording writes it: <c>[[...],[...]]</c>. Equality compares
/// <see cref="Values"/> by reference, as <see cref="ReadOnlyMemory{T}"/> does.
/// </summary>
public sealed record FloatMatrix
{
    /// <summary>Creates the matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or <paramref name="values"/> is not rows x columns floats.</exception>
    public FloatMatrix(int rows, int columns, ReadOnlyMemory<float> values)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if ((long)rows * columns != values.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length,
                $"a {rows} x {columns} matrix holds {(long)rows * columns} floats; found {values.Length}.");
        }

        Rows = rows;
        Columns = columns;
        Values = values;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Floats per row.</summary>
    public int Columns { get; }

    /// <summary>All values, row after row.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <summary>The matrix with these rows, which must all have the same length.</summary>
    /// <exception cref="ArgumentException">The rows differ in length.</exception>
    public static FloatMatrix FromRows(params float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var columns = rows.Length == 0 ? 0 : rows[0].Length;
        var values = new float[rows.Length * columns];
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != columns)
            {
                throw new ArgumentException($"row {i} has {rows[i].Length} values; row 0 has {columns}.", nameof(rows));
            }

            rows[i].CopyTo(values, i * columns);
        }

        return new FloatMatrix(rows.Length, columns, values);
    }

    /// <summary>One row.</summary>
    public ReadOnlyMemory<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return Values.Slice(row * Columns, Columns);
    }
}

namespace Streaming.Cells.Weights;

/// <summary>A dense row-major fp32 tensor on the host: a shape and its values.</summary>
public sealed record FloatTensor
{
    /// <summary>Creates a tensor; the number of values must equal the product of the shape.</summary>
    public FloatTensor(IReadOnlyList<int> shape, ReadOnlyMemory<float> data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"shape {Describe(shape)} has a negative dimension.", nameof(shape));
            }

            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException(
                $"shape {Describe(shape)} holds {count} values but {data.Length} were given.", nameof(data));
        }

        Shape = shape.ToArray();
        Data = data;
    }

    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Values in row-major order.</summary>
    public ReadOnlyMemory<float> Data { get; }

    /// <summary>A tensor of the given shape filled with zeros.</summary>
    public static FloatTensor Zeros(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = 1;
        foreach (var d in shape)
        {
            count = checked(count * d);
        }

        return new FloatTensor(shape, new float[count]);
    }

    /// <summary>Whether the shape equals <paramref name="expected"/>.</summary>
    public bool HasShape(params int[] expected) => Shape.SequenceEqual(expected);

    /// <summary>The shape written as PyTorch prints it, e.g. <c>[12, 4]</c>.</summary>
    public string ShapeText => Describe(Shape);

    /// <summary>Writes a shape as <c>[a, b]</c>.</summary>
    public static string Describe(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
}

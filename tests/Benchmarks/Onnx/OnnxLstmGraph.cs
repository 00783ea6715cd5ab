using System.Runtime.InteropServices;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Benchmarks.Onnx;

/// <summary>
/// Writes a stacked unidirectional LSTM (no projection) as an ONNX model: one <c>LSTM</c> operator per layer, each
/// with <c>initial_h</c>/<c>initial_c</c> in and <c>Y_h</c>/<c>Y_c</c> out, its <c>Y</c> squeezed into the next
/// layer's input. Weights come from our PyTorch-layout weights, with the gate blocks reordered from PyTorch's
/// i, f, g, o to ONNX's i, o, f, c, and the two biases concatenated as ONNX's <c>B</c> wants them.
/// Inputs: <c>x</c> (T, B, input), <c>h0_k</c> and <c>c0_k</c> (1, B, hidden); outputs: <c>y</c> (T, B, hidden),
/// <c>hn_k</c> and <c>cn_k</c> (1, B, hidden), for each layer k; T and B are free.
/// </summary>
internal static class OnnxLstmGraph
{
    private const int Float = 1;
    private const int Int64 = 7;
    private const int AttributeInt = 2;

    // ONNX gate block k is PyTorch's block GateOrder[k]: i, o, f, c from i, f, g, o.
    private static readonly int[] GateOrder = [0, 3, 1, 2];

    public static byte[] Build(ModelWeights weights)
    {
        var spec = weights.Spec.Recurrent;
        if (spec.Mode != RecurrentMode.Lstm || spec.Bidirectional || spec.ProjSize != 0 || weights.Embedding is not null || weights.HeadWeight is not null)
        {
            throw new ArgumentException("the ONNX comparison covers a plain unidirectional LSTM without projection, embedding or head.", nameof(weights));
        }

        var hidden = spec.HiddenSize;
        var graph = new ProtoWriter().String(2, "lstm");
        graph.Message(5, Tensor("squeeze_axes", [1], Int64, MemoryMarshal.AsBytes(new long[] { 1 }.AsSpan())));
        graph.Message(11, Value("x", "T", "B", spec.InputSize));
        var input = "x";
        for (var k = 0; k < spec.NumLayers; k++)
        {
            var layer = weights.Layers[k][0];
            var inputSize = spec.Layer(k).InputSize;
            graph.Message(5, FloatTensor($"W{k}", [1, 4 * hidden, inputSize], Reorder(layer.WeightIh.Data.Span, hidden, inputSize)));
            graph.Message(5, FloatTensor($"R{k}", [1, 4 * hidden, hidden], Reorder(layer.WeightHh.Data.Span, hidden, hidden)));
            var bias = new float[8 * hidden];
            if (layer.BiasIh is { } bih && layer.BiasHh is { } bhh)
            {
                Reorder(bih.Data.Span, hidden, 1).CopyTo(bias, 0);
                Reorder(bhh.Data.Span, hidden, 1).CopyTo(bias, 4 * hidden);
            }

            graph.Message(5, FloatTensor($"B{k}", [1, 8 * hidden], bias));
            graph.Message(11, Value($"h0_{k}", "1", "B", hidden));
            graph.Message(11, Value($"c0_{k}", "1", "B", hidden));
            var lstm = new ProtoWriter();
            foreach (var name in new[] { input, $"W{k}", $"R{k}", $"B{k}", "", $"h0_{k}", $"c0_{k}" })
            {
                lstm.String(1, name);
            }

            lstm.String(2, $"y4_{k}").String(2, $"hn_{k}").String(2, $"cn_{k}").String(3, $"lstm{k}").String(4, "LSTM");
            lstm.Message(5, new ProtoWriter().String(1, "hidden_size").Varint(3, hidden).Varint(20, AttributeInt));
            graph.Message(1, lstm);
            var output = k == spec.NumLayers - 1 ? "y" : $"x{k + 1}";
            graph.Message(1, new ProtoWriter().String(1, $"y4_{k}").String(1, "squeeze_axes").String(2, output).String(3, $"squeeze{k}").String(4, "Squeeze"));
            input = output;
        }

        graph.Message(12, Value("y", "T", "B", hidden));
        for (var k = 0; k < spec.NumLayers; k++)
        {
            graph.Message(12, Value($"hn_{k}", "1", "B", hidden));
            graph.Message(12, Value($"cn_{k}", "1", "B", hidden));
        }

        return new ProtoWriter()
            .Varint(1, 8)
            .String(2, "streaming-benchmarks")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, 17))
            .ToArray();
    }

    // PyTorch's (4 * hidden, columns) gate blocks i, f, g, o as ONNX's i, o, f, c.
    private static float[] Reorder(ReadOnlySpan<float> pytorch, int hidden, int columns)
    {
        var block = hidden * columns;
        var onnx = new float[4 * block];
        for (var k = 0; k < 4; k++)
        {
            pytorch.Slice(GateOrder[k] * block, block).CopyTo(onnx.AsSpan(k * block, block));
        }

        return onnx;
    }

    private static ProtoWriter FloatTensor(string name, long[] dims, float[] data) =>
        Tensor(name, dims, Float, MemoryMarshal.AsBytes(data.AsSpan()));

    private static ProtoWriter Tensor(string name, long[] dims, int dataType, ReadOnlySpan<byte> raw)
    {
        var tensor = new ProtoWriter();
        foreach (var dim in dims)
        {
            tensor.Varint(1, dim);
        }

        return tensor.Varint(2, dataType).String(8, name).Bytes(9, raw);
    }

    // A float tensor value whose dimensions are a name (free) or a number.
    private static ProtoWriter Value(string name, params object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var dim in dims)
        {
            shape.Message(1, dim switch
            {
                int size => new ProtoWriter().Varint(1, size),
                string free when long.TryParse(free, out var size) => new ProtoWriter().Varint(1, size),
                string free => new ProtoWriter().String(2, free),
                _ => throw new ArgumentException($"dimension {dim} is neither a size nor a name."),
            });
        }

        var tensorType = new ProtoWriter().Varint(1, Float).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}

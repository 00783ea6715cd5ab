using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Cells.Sequences;

/// <summary>
/// A whole model (embedding, recurrent layers, head) on a backend, run in bulk over whole sequences
/// exactly as PyTorch's modules are: <c>output, (h_n, c_n) = lstm(input, (h_0, c_0))</c> followed by
/// the head. Thread-safe for one caller at a time.
/// </summary>
public sealed class RecurrentModel : IDisposable
{
    private readonly bool _ownsBackend;

    /// <summary>Wraps <paramref name="backend"/>; when <paramref name="ownsBackend"/> the model disposes it.</summary>
    public RecurrentModel(IRecurrentBackend backend, bool ownsBackend = true)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Backend = backend;
        _ownsBackend = ownsBackend;
    }

    /// <summary>The backend computing the layers.</summary>
    public IRecurrentBackend Backend { get; }

    /// <summary>The model.</summary>
    public ModelSpec Spec => Backend.Spec;

    /// <summary>Runs every layer over the whole batch of sequences, as PyTorch's module does.</summary>
    /// <exception cref="ArgumentException">The input does not fit the model: wrong kind (ids vs vectors), wrong length, non-finite values.</exception>
    public SequenceOutput Forward(SequenceInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var r = Spec.Recurrent;
        int steps = input.SequenceLength, batch = input.BatchSize, rows = steps * batch;
        var states = r.NumLayers * r.Directions * batch;
        CheckLength(input.H0, states * r.OutputSize, "h_0", $"(num_layers * directions = {r.NumLayers * r.Directions}, batch = {batch}, {r.OutputSize})");
        CheckLength(input.C0, r.HasCellState ? states * r.HiddenSize : 0, "c_0",
            r.HasCellState ? $"(num_layers * directions = {r.NumLayers * r.Directions}, batch = {batch}, {r.HiddenSize})" : "absent (only LSTM has a cell state)");

        var layerInput = TimeMajorInput(input);
        var hN = new float[states * r.OutputSize];
        var cN = r.HasCellState ? new float[states * r.HiddenSize] : [];
        for (var layer = 0; layer < r.NumLayers; layer++)
        {
            var shape = Backend.Layers[layer].Shape;
            var output = new float[rows * shape.SequenceOutputSize];
            var hSize = r.Directions * batch * r.OutputSize;
            var cSize = r.HasCellState ? r.Directions * batch * r.HiddenSize : 0;
            Backend.Layers[layer].Forward(
                layerInput, steps, batch,
                input.H0.IsEmpty ? ReadOnlyMemory<float>.Empty : input.H0.Slice(layer * hSize, hSize),
                input.C0.IsEmpty ? ReadOnlyMemory<float>.Empty : input.C0.Slice(layer * cSize, cSize),
                output,
                hN.AsMemory(layer * hSize, hSize),
                cN.AsMemory(layer * cSize, cSize));
            layerInput = output;
        }

        ReadOnlyMemory<float> recurrent = layerInput;
        var final = recurrent;
        if (Spec.Head is { } head)
        {
            var projected = new float[rows * head.OutFeatures];
            Backend.ApplyHead(recurrent, rows, projected);
            final = projected;
        }

        if (input.BatchFirst)
        {
            recurrent = Transpose(recurrent.Span, steps, batch, Spec.RecurrentOutputSize);
            final = Spec.Head is null ? recurrent : Transpose(final.Span, steps, batch, Spec.OutputSize);
        }

        return new SequenceOutput(final, recurrent, hN, cN);
    }

    /// <summary>Disposes the backend when this model owns it.</summary>
    public void Dispose()
    {
        if (_ownsBackend)
        {
            Backend.Dispose();
        }
    }

    private float[] TimeMajorInput(SequenceInput input)
    {
        int steps = input.SequenceLength, batch = input.BatchSize, rows = steps * batch;
        float[] values;
        if (Spec.TakesTokenIds)
        {
            if (!input.IsTokenIds)
            {
                throw new ArgumentException(
                    $"the model has an embedding and takes token ids, but float vectors were given.", nameof(input));
            }

            CheckLength(input.TokenIds, rows, "token ids", $"(seq_len = {steps}, batch = {batch})");
            var ids = input.BatchFirst ? Transpose(input.TokenIds.Span, batch, steps, 1) : input.TokenIds;
            values = new float[rows * Spec.InputSize];
            Backend.Embed(ids, values);
            return values;
        }

        if (input.IsTokenIds)
        {
            throw new ArgumentException(
                $"the model takes float vectors of {Spec.InputSize} values, but token ids were given (it has no embedding).", nameof(input));
        }

        CheckLength(input.Values, rows * Spec.InputSize, "input", $"(seq_len = {steps}, batch = {batch}, input_size = {Spec.InputSize})");
        var span = input.Values.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (!float.IsFinite(span[i]))
            {
                var feature = i % Spec.InputSize;
                var row = i / Spec.InputSize;
                throw new ArgumentException(
                    $"input value {span[i]} at row {row}, feature {feature} is not finite; inputs must be finite numbers.", nameof(input));
            }
        }

        return input.BatchFirst ? Transpose(span, batch, steps, Spec.InputSize) : span.ToArray();
    }

    private static void CheckLength<T>(ReadOnlyMemory<T> buffer, int expected, string what, string layout)
    {
        if (!buffer.IsEmpty && buffer.Length != expected)
        {
            throw new ArgumentException($"{what} has {buffer.Length} values; expected {expected} for {layout}.");
        }

        if (buffer.IsEmpty && what is "input" or "token ids")
        {
            throw new ArgumentException($"{what} is empty; expected {expected} values for {layout}.");
        }
    }

    // Swaps the two outer axes of an (outer, inner, features) array.
    private static T[] Transpose<T>(ReadOnlySpan<T> source, int outer, int inner, int features)
    {
        var result = new T[source.Length];
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                source.Slice((o * inner + i) * features, features).CopyTo(result.AsSpan((i * outer + o) * features, features));
            }
        }

        return result;
    }
}

using Streaming.Cells.Backends;

namespace Streaming.Pipeline;

/// <summary>The linear head: all token outputs of a batch in one <c>ApplyHead</c> call, and each replay's whole sequence. Stateless.</summary>
internal sealed class HeadProcessor(IRecurrentBackend backend) : IBatchProcessor
{
    private readonly int _inputSize = backend.Spec.RecurrentOutputSize;
    private readonly int _outputSize = backend.Spec.OutputSize;
    private readonly List<Element> _tokens = [];
    private float[] _input = [];
    private float[] _output = [];

    public void Process(IReadOnlyList<Element> batch)
    {
        _tokens.Clear();
        foreach (var element in batch)
        {
            if (element.Kind is ElementKind.Token or ElementKind.Peek)
            {
                _tokens.Add(element);
            }
            else if (element.Kind == ElementKind.Replay)
            {
                var output = new float[element.Steps * _outputSize];
                backend.ApplyHead(element.Data, element.Steps, output);
                element.Data = output;
            }
        }

        var count = _tokens.Count;
        if (count == 0)
        {
            return;
        }

        if (_input.Length < count * _inputSize)
        {
            _input = new float[count * _inputSize * 2];
            _output = new float[count * _outputSize * 2];
        }

        for (var i = 0; i < count; i++)
        {
            _tokens[i].Data.CopyTo(_input, i * _inputSize);
        }

        backend.ApplyHead(_input.AsMemory(0, count * _inputSize), count, _output.AsMemory(0, count * _outputSize));
        for (var i = 0; i < count; i++)
        {
            _tokens[i].Data = LayerProcessor.Reuse(_tokens[i].Data, _output.AsSpan(i * _outputSize, _outputSize));
        }
    }

    public void Dispose()
    {
        // Stateless: the engine owns the backend.
    }
}

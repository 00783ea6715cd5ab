using Streaming.Cells.Backends;

namespace Streaming.Cells.Tests.Contract;

/// <summary>Steps a fixed set of sessions through every layer of a backend, one token each per call (loop mode).</summary>
internal sealed class SessionStepper : IDisposable
{
    private readonly IRecurrentBackend _backend;
    private readonly IStateSlab[] _slabs;
    private readonly int[][] _slots;
    private readonly int _sessions;

    public SessionStepper(IRecurrentBackend backend, int sessions)
    {
        _backend = backend;
        _sessions = sessions;
        _slabs = backend.Layers.Select(l => l.CreateSlab(2)).ToArray();
        // A throwaway allocation first, so slot numbers differ from session indices and gather/scatter is exercised.
        _slots = _slabs.Select(s => { s.Allocate(); return Enumerable.Range(0, sessions).Select(_ => s.Allocate()).Reverse().ToArray(); }).ToArray();
    }

    /// <summary>Writes h0/c0 in PyTorch layout (num_layers, sessions, size) into the slots.</summary>
    public void WriteInitialState(float[] h0, float[]? c0)
    {
        for (var layer = 0; layer < _slabs.Length; layer++)
        {
            var shape = _slabs[layer].Shape;
            for (var s = 0; s < _sessions; s++)
            {
                var h = h0.AsMemory((layer * _sessions + s) * shape.OutputSize, shape.OutputSize);
                var c = c0 is null ? ReadOnlyMemory<float>.Empty : c0.AsMemory((layer * _sessions + s) * shape.HiddenSize, shape.HiddenSize);
                _slabs[layer].Write(_slots[layer][s], new SlotState(h, c));
            }
        }
    }

    /// <summary>One token per session: input (sessions, input size); returns the top layer's output (sessions, output size).</summary>
    public float[] Step(ReadOnlyMemory<float> input)
    {
        var current = input;
        for (var layer = 0; layer < _slabs.Length; layer++)
        {
            var output = new float[_sessions * _slabs[layer].Shape.OutputSize];
            _backend.Layers[layer].Step(_slabs[layer], _slots[layer], current, output);
            current = output;
        }

        return current.ToArray();
    }

    /// <summary>The sessions' states in PyTorch layout (num_layers, sessions, size).</summary>
    public (float[] H, float[] C) ReadState()
    {
        var h = new List<float>();
        var c = new List<float>();
        for (var layer = 0; layer < _slabs.Length; layer++)
        {
            for (var s = 0; s < _sessions; s++)
            {
                var state = _slabs[layer].Read(_slots[layer][s]);
                h.AddRange(state.H.ToArray());
                c.AddRange(state.C.ToArray());
            }
        }

        return (h.ToArray(), c.ToArray());
    }

    public void Dispose()
    {
        foreach (var slab in _slabs)
        {
            slab.Dispose();
        }
    }
}

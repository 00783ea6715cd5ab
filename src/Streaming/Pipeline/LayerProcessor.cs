using System.Diagnostics;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Pipeline;

/// <summary>
/// One recurrent layer's work in the pipeline. It owns the layer's state slab and the session-to-slot map;
/// control elements act on a session's slot, and all tokens of a batch advance in one <c>Step</c> call.
/// Replays of several sessions in one batch run together as PyTorch's packed sequences do: step by step, each step one
/// batched <c>Step</c> over the sessions whose sequences are still running (longest first); a lone replay, and any
/// replay through a bidirectional layer, is one bulk <c>Forward</c>. Layer 0 also looks up embedding rows for id
/// tokens. Used by one stage, one batch at a time.
/// </summary>
internal sealed class LayerProcessor : IBatchProcessor
{
    private readonly IRecurrentBackend _backend;
    private readonly IRecurrentLayer _layer;
    private readonly LayerShape _shape;
    private readonly IStateSlab _slab;
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<Element> _tokens = [];
    private readonly List<Element> _replays = [];
    private int[] _stepSlots = [];
    private int[] _ids = [];
    private float[] _input = [];
    private float[] _output = [];

    public LayerProcessor(IRecurrentBackend backend, int layerIndex, int initialSlots)
    {
        _backend = backend;
        _layer = backend.Layers[layerIndex];
        _shape = _layer.Shape;
        _slab = _layer.CreateSlab(initialSlots);
        LooksUpIds = layerIndex == 0 && backend.Spec.TakesTokenIds;
        IsTop = layerIndex == backend.Layers.Count - 1;
    }

    private bool LooksUpIds { get; }

    private bool IsTop { get; }

    public void Process(IReadOnlyList<Element> batch)
    {
        _tokens.Clear();
        _replays.Clear();
        foreach (var element in batch)
        {
            // Distinct sessions per batch make tokens, replays and control elements independent of each other.
            if (element.Kind == ElementKind.Token)
            {
                _tokens.Add(element);
            }
            else if (element.Kind == ElementKind.Replay)
            {
                _replays.Add(element);
            }
            else
            {
                Control(element);
            }
        }

        if (_tokens.Count > 0)
        {
            Step();
        }

        if (_replays.Count > 1 && _shape.Directions == 1)
        {
            PackedReplay();
        }
        else
        {
            foreach (var replay in _replays)
            {
                Replay(replay);
            }
        }
    }

    public void Dispose() => _slab.Dispose();

    private void Control(Element element)
    {
        switch (element.Kind)
        {
            case ElementKind.Open:
                Debug.Assert(!_slots.ContainsKey(element.SessionId), "a session opens its slot only once (open, or restore when it has none)");
                var opened = _slab.Allocate();
                _slots.Add(element.SessionId, opened);
                if (element.States is { } initial)
                {
                    _slab.Write(opened, ToSlot(initial[_shape.Index]));
                }

                break;
            case ElementKind.Close:
                _slab.Free(SlotOf(element));
                _slots.Remove(element.SessionId);
                break;
            case ElementKind.Reset:
                _slab.Zero(SlotOf(element));
                break;
            case ElementKind.Snapshot:
                var state = _slab.Read(SlotOf(element));
                element.Collected![_shape.Index] = new LayerState(state.H, state.C);
                break;
            case ElementKind.Restore:
                if (!_slots.TryGetValue(element.SessionId, out var restored))
                {
                    restored = _slab.Allocate();
                    _slots.Add(element.SessionId, restored);
                }

                _slab.Write(restored, ToSlot(element.States![_shape.Index]));
                break;
            case ElementKind.Peek:
                // A unidirectional layer's output at a step is its h after it: the top layer's h is the model's last output.
                if (IsTop)
                {
                    element.Data = _slab.Read(SlotOf(element)).H.ToArray();
                }

                break;
            default:
                throw new InvalidOperationException($"layer {_shape.Index} cannot process a {element.Kind} element.");
        }
    }

    // The whole sequence in one bulk call from the slot's state (or the given one); the final state goes back into the slot.
    private void Replay(Element element)
    {
        var slot = SlotOf(element);
        var from = element.States is { } given ? ToSlot(given[_shape.Index]) : _slab.Read(slot);
        var output = new float[element.Steps * _shape.SequenceOutputSize];
        ForwardRest(element, slot, 0, from, output);
        element.Data = output;
        element.Ids = null;
    }

    // The element's sequence from step `first` to its end in one bulk call from `from`: outputs from step `first` on, and
    // the final state into the slot.
    private void ForwardRest(Element element, int slot, int first, SlotState from, float[] output)
    {
        var steps = element.Steps - first;
        var input = LooksUpIds
            ? Embed(element.Ids.AsMemory(first, steps))
            : element.Data.AsMemory(first * _shape.InputSize, steps * _shape.InputSize);
        var h = new float[_shape.SlotHSize];
        var c = new float[_shape.SlotCSize];
        _layer.Forward(input, steps, 1, from.H, from.C, output.AsMemory(first * _shape.SequenceOutputSize), h, c);
        _slab.Write(slot, new SlotState(h, c));
    }

    // Several sessions' sequences at once: at step t, one batched Step over the sessions whose sequence is longer than t.
    // Sorted longest first, those are a prefix of the list, as in a packed sequence. Each session starts from its slot's
    // state, or from the given one (written into its slot first), and its slot holds its final state at the end. Once one
    // sequence is left, its remaining steps are one bulk call, which computes a lone sequence faster than steps of one.
    private void PackedReplay()
    {
        // Stable: equal lengths keep the batch's order.
        var replays = _replays.OrderByDescending(r => r.Steps).ToArray();
        int count = replays.Length, inputSize = _shape.InputSize, outputSize = _shape.OutputSize;
        EnsureLength(ref _stepSlots, count);
        EnsureLength(ref _input, count * inputSize);
        EnsureLength(ref _output, count * outputSize);
        EnsureLength(ref _ids, count);
        var outputs = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var replay = replays[i];
            _stepSlots[i] = SlotOf(replay);
            if (replay.States is { } given)
            {
                _slab.Write(_stepSlots[i], ToSlot(given[_shape.Index]));
            }

            outputs[i] = new float[replay.Steps * outputSize];
        }

        var running = count;
        for (var t = 0; ; t++)
        {
            while (running > 0 && replays[running - 1].Steps <= t)
            {
                running--;
            }

            if (running == 0)
            {
                break;
            }

            if (running == 1 && replays[0].Steps - t > 1)
            {
                ForwardRest(replays[0], _stepSlots[0], t, _slab.Read(_stepSlots[0]), outputs[0]);
                break;
            }

            var input = _input.AsMemory(0, running * inputSize);
            if (LooksUpIds)
            {
                for (var i = 0; i < running; i++)
                {
                    _ids[i] = replays[i].Ids![t];
                }

                _backend.Embed(_ids.AsMemory(0, running), input);
            }
            else
            {
                for (var i = 0; i < running; i++)
                {
                    replays[i].Data.AsSpan(t * inputSize, inputSize).CopyTo(_input.AsSpan(i * inputSize));
                }
            }

            _layer.Step(_slab, _stepSlots.AsMemory(0, running), input, _output.AsMemory(0, running * outputSize));
            for (var i = 0; i < running; i++)
            {
                _output.AsSpan(i * outputSize, outputSize).CopyTo(outputs[i].AsSpan(t * outputSize));
            }
        }

        for (var i = 0; i < count; i++)
        {
            replays[i].Data = outputs[i];
            replays[i].Ids = null;
        }
    }

    private void Step()
    {
        int count = _tokens.Count, inputSize = _shape.InputSize, outputSize = _shape.OutputSize;
        EnsureLength(ref _stepSlots, count);
        EnsureLength(ref _input, count * inputSize);
        EnsureLength(ref _output, count * outputSize);
        for (var i = 0; i < count; i++)
        {
            _stepSlots[i] = SlotOf(_tokens[i]);
        }

        var input = _input.AsMemory(0, count * inputSize);
        if (LooksUpIds)
        {
            EnsureLength(ref _ids, count);
            for (var i = 0; i < count; i++)
            {
                _ids[i] = _tokens[i].Ids![0];
            }

            _backend.Embed(_ids.AsMemory(0, count), input);
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                _tokens[i].Data.CopyTo(_input, i * inputSize);
            }
        }

        _layer.Step(_slab, _stepSlots.AsMemory(0, count), input, _output.AsMemory(0, count * outputSize));
        for (var i = 0; i < count; i++)
        {
            _tokens[i].Data = Reuse(_tokens[i].Data, _output.AsSpan(i * outputSize, outputSize));
            _tokens[i].Ids = null;
        }
    }

    // A token's vector belongs to its element alone (the caller's values were copied when accepted), so an
    // output of the same width overwrites it instead of allocating per token and layer.
    internal static float[] Reuse(float[] data, ReadOnlySpan<float> output)
    {
        var target = data.Length == output.Length ? data : new float[output.Length];
        output.CopyTo(target);
        return target;
    }

    private float[] Embed(ReadOnlyMemory<int> ids)
    {
        var rows = new float[ids.Length * _shape.InputSize];
        _backend.Embed(ids, rows);
        return rows;
    }

    private int SlotOf(Element element) =>
        _slots.TryGetValue(element.SessionId, out var slot)
            ? slot
            : throw new InvalidOperationException(
                $"layer {_shape.Index} has no slot for session '{element.SessionId}' ({element.Kind}); its session sends an open or restore first.");

    private static SlotState ToSlot(LayerState state) => new(state.H, state.C);

    private static void EnsureLength<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[Math.Max(length, buffer.Length * 2)];
        }
    }
}

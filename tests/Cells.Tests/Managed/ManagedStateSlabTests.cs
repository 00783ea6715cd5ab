using Streaming.Cells.Backends;
using Streaming.Cells.Managed;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>The managed state slab: zeroed allocation, reuse, growth, copies in and out, and clear refusals.</summary>
public sealed class ManagedStateSlabTests : IDisposable
{
    private readonly ManagedBackend _lstm = Backend(RecurrentMode.Lstm, bidirectional: true);
    private readonly ManagedBackend _gru = Backend(RecurrentMode.Gru, bidirectional: false);

    public void Dispose()
    {
        _lstm.Dispose();
        _gru.Dispose();
    }

    [Fact]
    public void A_slot_reused_after_Free_starts_from_zeros()
    {
        using var slab = _lstm.Layers[0].CreateSlab(2);
        var slot = slab.Allocate();
        slab.Write(slot, RandomState(slab.Shape, 1));
        slab.Free(slot);

        var reused = slab.Allocate();

        Assert.Equal(slot, reused);
        Assert.All(slab.Read(reused).H.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(slab.Read(reused).C.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Read_returns_a_copy_of_what_Write_installed()
    {
        using var slab = _lstm.Layers[0].CreateSlab(1);
        var slot = slab.Allocate();
        var state = RandomState(slab.Shape, 2);
        slab.Write(slot, state);

        var read = slab.Read(slot);
        slab.Zero(slot);

        Assert.Equal(state.H.ToArray(), read.H.ToArray());
        Assert.Equal(state.C.ToArray(), read.C.ToArray());
        Assert.Equal(2 * 5, read.H.Length);
        Assert.All(slab.Read(slot).H.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Growing_keeps_every_slot_state_and_counts_slots_in_use()
    {
        using var slab = _gru.Layers[0].CreateSlab(0);
        var states = new Dictionary<int, SlotState>();
        for (var i = 0; i < 37; i++)
        {
            var slot = slab.Allocate();
            states[slot] = RandomState(slab.Shape, i);
            slab.Write(slot, states[slot]);
        }

        Assert.Equal(37, slab.Count);
        Assert.True(slab.Capacity >= 37);
        Assert.Equal(37, states.Count);
        foreach (var (slot, state) in states)
        {
            Assert.Equal(state.H.ToArray(), slab.Read(slot).H.ToArray());
            Assert.True(slab.Read(slot).C.IsEmpty);
        }

        slab.Free(3);
        Assert.Equal(36, slab.Count);
    }

    [Fact]
    public void Slots_not_allocated_are_refused_naming_the_slot()
    {
        using var slab = _gru.Layers[0].CreateSlab(4);
        var slot = slab.Allocate();
        slab.Free(slot);

        Assert.Contains("slot 0 is not allocated", Assert.Throws<ArgumentOutOfRangeException>(() => slab.Free(slot)).Message, StringComparison.Ordinal);
        Assert.Contains("slot 2 is not allocated", Assert.Throws<ArgumentOutOfRangeException>(() => slab.Read(2)).Message, StringComparison.Ordinal);
        Assert.Contains("slot -1 is not allocated", Assert.Throws<ArgumentOutOfRangeException>(() => slab.Zero(-1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => slab.Write(9, RandomState(slab.Shape, 0)));
    }

    [Fact]
    public void Write_refuses_states_of_the_wrong_size_naming_expected_and_found()
    {
        using var lstmSlab = _lstm.Layers[0].CreateSlab(1);
        var slot = lstmSlab.Allocate();
        var badH = Assert.Throws<ArgumentException>(() => lstmSlab.Write(slot, new SlotState(new float[9], new float[14])));
        Assert.Contains("state.H has 9 floats; layer 0 expects 10", badH.Message, StringComparison.Ordinal);
        var badC = Assert.Throws<ArgumentException>(() => lstmSlab.Write(slot, new SlotState(new float[10], new float[7])));
        Assert.Contains("state.C has 7 floats; layer 0 expects 14", badC.Message, StringComparison.Ordinal);

        using var gruSlab = _gru.Layers[0].CreateSlab(1);
        var gruSlot = gruSlab.Allocate();
        var cOnGru = Assert.Throws<ArgumentException>(() => gruSlab.Write(gruSlot, new SlotState(new float[7], new float[7])));
        Assert.Contains("has no cell state", cOnGru.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disposed_slab_refuses_further_use()
    {
        var slab = _gru.Layers[0].CreateSlab(1);
        slab.Allocate();
        slab.Dispose();

        Assert.Throws<ObjectDisposedException>(() => slab.Allocate());
        Assert.Throws<ObjectDisposedException>(() => slab.Read(0));
    }

    private static ManagedBackend Backend(RecurrentMode mode, bool bidirectional)
    {
        var spec = new ModelSpec(new RecurrentSpec(mode, InputSize: 3, HiddenSize: 7, Bidirectional: bidirectional, ProjSize: mode == RecurrentMode.Lstm ? 5 : 0));
        return new ManagedBackend(RandomWeights.For(spec, 1), BackendOptions.Managed);
    }

    private static SlotState RandomState(Model.LayerShape shape, int seed)
    {
        var random = new Random(seed);
        return new SlotState(RandomWeights.Vector(random, shape.SlotHSize), RandomWeights.Vector(random, shape.SlotCSize));
    }
}

using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Torch;

namespace Streaming.Cells.Tests.Torch;

/// <summary>The device-resident state slab: allocation, reuse, growth, snapshots and their errors.</summary>
public sealed class TorchStateSlabTests
{
    private static readonly RecurrentSpec Lstm = new(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 4);

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void A_new_slot_holds_zeros(string device)
    {
        using var backend = Backend(Lstm, device);
        using var slab = backend.Layers[0].CreateSlab(4);

        var state = slab.Read(slab.Allocate());

        Assert.Equal(new float[4], state.H.ToArray());
        Assert.Equal(new float[4], state.C.ToArray());
        Assert.Equal(1, slab.Count);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void A_slot_reused_after_free_starts_from_zeros(string device)
    {
        using var backend = Backend(Lstm, device);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(2);
        var slot = slab.Allocate();
        layer.Step(slab, new[] { slot }, new float[] { 1, -2, 3 }, new float[4]);
        Assert.NotEqual(new float[4], slab.Read(slot).H.ToArray());

        slab.Free(slot);
        var reused = slab.Allocate();

        Assert.Equal(slot, reused);
        Assert.Equal(new float[4], slab.Read(reused).H.ToArray());
        Assert.Equal(new float[4], slab.Read(reused).C.ToArray());
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Growth_doubles_the_capacity_and_preserves_every_slot(string device)
    {
        using var backend = Backend(Lstm, device);
        using var slab = backend.Layers[0].CreateSlab(2);
        var states = new Dictionary<int, SlotState>();
        var random = new Random(7);
        for (var i = 0; i < 2; i++)
        {
            var slot = slab.Allocate();
            states[slot] = new SlotState(RandomWeights.Vector(random, 4), RandomWeights.Vector(random, 4));
            slab.Write(slot, states[slot]);
        }

        var third = slab.Allocate();

        Assert.Equal(4, slab.Capacity);
        Assert.Equal(3, slab.Count);
        Assert.Equal(new float[4], slab.Read(third).H.ToArray());
        foreach (var (slot, state) in states)
        {
            Assert.Equal(state.H.ToArray(), slab.Read(slot).H.ToArray());
            Assert.Equal(state.C.ToArray(), slab.Read(slot).C.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void A_slab_created_empty_grows_on_first_allocation(string device)
    {
        using var backend = Backend(Lstm, device);
        using var slab = backend.Layers[0].CreateSlab(0);

        var slot = slab.Allocate();

        Assert.Equal(0, slot);
        Assert.Equal(1, slab.Capacity);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Read_returns_exactly_what_write_stored_for_every_layout(string device)
    {
        var specs = new[]
        {
            Lstm,
            new RecurrentSpec(RecurrentMode.Lstm, 3, 5, ProjSize: 2, Bidirectional: true),
            new RecurrentSpec(RecurrentMode.Gru, 3, 4),
            new RecurrentSpec(RecurrentMode.RnnRelu, 3, 4, Bidirectional: true),
        };
        var random = new Random(11);
        foreach (var spec in specs)
        {
            using var backend = Backend(spec, device);
            var shape = backend.Layers[0].Shape;
            using var slab = backend.Layers[0].CreateSlab(3);
            var slots = Enumerable.Range(0, 3).Select(_ => slab.Allocate()).ToArray();
            var written = slots.Select(_ => new SlotState(RandomWeights.Vector(random, shape.SlotHSize), RandomWeights.Vector(random, shape.SlotCSize))).ToArray();
            for (var i = 0; i < slots.Length; i++)
            {
                slab.Write(slots[i], written[i]);
            }

            for (var i = 0; i < slots.Length; i++)
            {
                var read = slab.Read(slots[i]);
                Assert.Equal(written[i].H.ToArray(), read.H.ToArray());
                Assert.Equal(written[i].C.ToArray(), read.C.ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Zero_clears_only_the_named_slot(string device)
    {
        using var backend = Backend(Lstm, device);
        using var slab = backend.Layers[0].CreateSlab(2);
        var a = slab.Allocate();
        var b = slab.Allocate();
        var state = new SlotState(new float[] { 1, 2, 3, 4 }, new float[] { 5, 6, 7, 8 });
        slab.Write(a, state);
        slab.Write(b, state);

        slab.Zero(a);

        Assert.Equal(new float[4], slab.Read(a).H.ToArray());
        Assert.Equal(new float[4], slab.Read(a).C.ToArray());
        Assert.Equal(state.H.ToArray(), slab.Read(b).H.ToArray());
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Slots_that_are_not_allocated_are_refused_by_name(string device)
    {
        using var backend = Backend(Lstm, device);
        using var slab = backend.Layers[0].CreateSlab(4);
        var slot = slab.Allocate();
        slab.Free(slot);

        var free = Assert.Throws<ArgumentOutOfRangeException>(() => slab.Free(slot));
        Assert.Contains($"slot {slot} is not allocated", free.Message);
        Assert.Contains("slot 9 is not allocated", Assert.Throws<ArgumentOutOfRangeException>(() => slab.Read(9)).Message);
        Assert.Contains("slot -1 is not allocated", Assert.Throws<ArgumentOutOfRangeException>(() => slab.Zero(-1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => slab.Write(2, new SlotState(new float[4], new float[4])));
        Assert.Equal(0, slab.Count);
    }

    [Theory]
    [MemberData(nameof(TorchTestDevices.Devices), MemberType = typeof(TorchTestDevices))]
    public void Write_with_wrong_sizes_is_refused_naming_expected_and_found(string device)
    {
        using var backend = Backend(Lstm, device);
        using var gru = Backend(new RecurrentSpec(RecurrentMode.Gru, 3, 4), device);
        using var slab = backend.Layers[0].CreateSlab(1);
        using var gruSlab = gru.Layers[0].CreateSlab(1);
        var slot = slab.Allocate();
        var gruSlot = gruSlab.Allocate();

        var h = Assert.Throws<ArgumentException>(() => slab.Write(slot, new SlotState(new float[3], new float[4])));
        var c = Assert.Throws<ArgumentException>(() => slab.Write(slot, new SlotState(new float[4], new float[5])));
        var extra = Assert.Throws<ArgumentException>(() => gruSlab.Write(gruSlot, new SlotState(new float[4], new float[4])));

        Assert.Contains("state.H has 3 values; expected 4", h.Message);
        Assert.Contains("state.C has 5 values; expected 4", c.Message);
        Assert.Contains("state.C has 4 values; expected 0", extra.Message);
        Assert.Equal(new float[4], slab.Read(slot).H.ToArray());
    }

    [Fact]
    public void A_negative_initial_capacity_is_refused()
    {
        using var backend = Backend(Lstm, "cpu");

        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Layers[0].CreateSlab(-1));
    }

    [Fact]
    public void A_disposed_slab_refuses_further_use()
    {
        using var backend = Backend(Lstm, "cpu");
        var slab = backend.Layers[0].CreateSlab(1);
        var slot = slab.Allocate();
        slab.Dispose();

        Assert.Throws<ObjectDisposedException>(() => slab.Allocate());
        Assert.Throws<ObjectDisposedException>(() => slab.Read(slot));
        Assert.Throws<ObjectDisposedException>(() => backend.Layers[0].Step(slab, new[] { slot }, new float[3], new float[4]));
    }

    private static TorchBackend Backend(RecurrentSpec spec, string device) =>
        TorchForwardTests.Create(RandomWeights.For(new ModelSpec(spec), seed: 3), device);
}

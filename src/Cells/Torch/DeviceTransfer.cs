using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// Copies between host spans and tensors on any device. New tensors join the caller's dispose scope,
/// so call these inside one.
/// </summary>
internal static class DeviceTransfer
{
    /// <summary>A new fp32 tensor on <paramref name="device"/> holding <paramref name="values"/> in the given shape.</summary>
    public static Tensor Upload(ReadOnlySpan<float> values, long[] shape, Device device)
    {
        var host = empty(shape, ScalarType.Float32);
        Debug.Assert(host.numel() == values.Length, "shape and value count must agree");
        MemoryMarshal.AsBytes(values).CopyTo(host.bytes);
        return device.type == DeviceType.CPU ? host : host.to(device);
    }

    /// <summary>Copies <paramref name="values"/> into <paramref name="destination"/>, a contiguous tensor or a view on any device.</summary>
    public static void CopyInto(ReadOnlySpan<float> values, Tensor destination)
    {
        Debug.Assert(destination.numel() == values.Length, "destination size must match");
        if (destination.device_type == DeviceType.CPU && destination.is_contiguous())
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination.bytes);
            return;
        }

        using var host = empty(destination.shape, ScalarType.Float32);
        MemoryMarshal.AsBytes(values).CopyTo(host.bytes);
        destination.copy_(host);
    }

    /// <summary>Copies all of <paramref name="source"/> (any device, any strides) into <paramref name="destination"/>.</summary>
    public static void Download(Tensor source, Span<float> destination)
    {
        Debug.Assert(source.numel() == destination.Length, "source size must match the destination");
        if (source.device_type == DeviceType.CPU && source.is_contiguous())
        {
            MemoryMarshal.Cast<byte, float>(source.bytes).CopyTo(destination);
            return;
        }

        // One device-to-host transfer of a dense copy; views are made contiguous on the device first.
        using var host = source.contiguous().cpu();
        MemoryMarshal.Cast<byte, float>(host.bytes).CopyTo(destination);
    }
}

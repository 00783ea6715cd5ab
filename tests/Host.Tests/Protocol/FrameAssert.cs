using System.Reflection;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>Compares frames field by field, vectors and bytes by content (floats bit for bit).</summary>
internal static class FrameAssert
{
    public static void Equal(Frame expected, Frame actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        foreach (var property in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            switch (e)
            {
                case ReadOnlyMemory<float> floats:
                    Assert.True(
                        floats.ToArray().Select(BitConverter.SingleToInt32Bits).SequenceEqual(((ReadOnlyMemory<float>)a!).ToArray().Select(BitConverter.SingleToInt32Bits)),
                        $"{expected.Type}.{property.Name} differs");
                    break;
                case ReadOnlyMemory<int> ints:
                    Assert.Equal(ints.ToArray(), ((ReadOnlyMemory<int>)a!).ToArray());
                    break;
                case ReadOnlyMemory<byte> bytes:
                    Assert.Equal(bytes.ToArray(), ((ReadOnlyMemory<byte>)a!).ToArray());
                    break;
                default:
                    Assert.Equal(e, a);
                    break;
            }
        }
    }
}

using System.Buffers.Binary;

namespace Streaming.Fuzz;

/// <summary>
/// AFL-like mutations for the in-process smoke run: bit flips, interesting bytes and 32-bit values (the length
/// fields' edge cases), inserted, deleted and duplicated ranges, splices of two inputs, truncation. Seeded, so a
/// failing smoke run names an input that can be made again.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly byte[] InterestingBytes = [0, 1, 0x7F, 0x80, 0xFF, (byte)'"', (byte)'[', (byte)'{', (byte)'\\', (byte)'\n'];
    private static readonly uint[] InterestingInts = [0, 1, 2, 4, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE];

    private readonly Random _random = new(seed);

    /// <summary>A mutant of <paramref name="input"/> (1 to 4 mutations), sometimes spliced with <paramref name="other"/>.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(other);
        var bytes = new List<byte>(input);
        for (var n = 1 + _random.Next(4); n > 0; n--)
        {
            MutateOnce(bytes, other);
        }

        return [.. bytes];
    }

    private void MutateOnce(List<byte> bytes, byte[] other)
    {
        var at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count);
        switch (bytes.Count == 0 ? 5 : _random.Next(9))
        {
            case 0:
                bytes[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1:
                bytes[at] = InterestingBytes[_random.Next(InterestingBytes.Length)];
                break;
            case 2:
                bytes[at] = (byte)_random.Next(256);
                break;
            case 3 when bytes.Count >= 4:
                Span<byte> value = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(value, InterestingInts[_random.Next(InterestingInts.Length)]);
                at = _random.Next(bytes.Count - 3);
                for (var i = 0; i < 4; i++)
                {
                    bytes[at + i] = value[i];
                }

                break;
            case 4:
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                break;
            case 5:
                bytes.InsertRange(at, Enumerable.Range(0, 1 + _random.Next(8)).Select(_ => (byte)_random.Next(256)));
                break;
            case 6:
                var length = Math.Min(bytes.Count - at, 1 + _random.Next(32));
                bytes.InsertRange(_random.Next(bytes.Count + 1), bytes.GetRange(at, length));
                break;
            case 7 when other.Length > 0:
                var from = _random.Next(other.Length);
                bytes.RemoveRange(at, bytes.Count - at);
                bytes.AddRange(other.AsSpan(from, Math.Min(other.Length - from, 1 + _random.Next(256))).ToArray());
                break;
            default:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
        }
    }
}

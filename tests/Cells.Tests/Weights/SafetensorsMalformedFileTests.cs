using System.Text;
using Streaming.Cells.Weights;
using static Streaming.Cells.Tests.Weights.SafetensorsBytes;

namespace Streaming.Cells.Tests.Weights;

public sealed class SafetensorsMalformedFileTests
{
    [Fact]
    public void Reader_refuses_a_file_shorter_than_8_bytes()
    {
        AssertRefused([1, 2, 3], "3 byte(s) long", "expected at least 8 bytes");
    }

    [Fact]
    public void Reader_refuses_a_header_longer_than_the_file()
    {
        var header = Encoding.UTF8.GetBytes("{}");

        AssertRefused(WithDeclaredLength(40, header, []), "header length is 40 bytes", "only 2 byte(s) follow");
    }

    [Fact]
    public void Reader_refuses_an_absurd_header_length()
    {
        AssertRefused(WithDeclaredLength(ulong.MaxValue, [], []), $"header length is {ulong.MaxValue} bytes", "expected at most 100000000");
    }

    [Fact]
    public void Reader_refuses_a_header_that_is_not_json()
    {
        AssertRefused(Build("{\"w\": {\"dtype\": "), "header is not valid JSON");
    }

    [Fact]
    public void Reader_refuses_a_header_that_is_not_utf8()
    {
        AssertRefused(WithDeclaredLength(3, [(byte)'"', 0xFF, (byte)'"'], []), "header is not valid UTF-8");
    }

    [Fact]
    public void Reader_refuses_a_header_that_is_not_an_object()
    {
        AssertRefused(Build("[1, 2]"), "header is a JSON array", "expected an object");
    }

    [Fact]
    public void Reader_refuses_an_entry_that_is_not_an_object()
    {
        AssertRefused(Build("{\"w\": 3}"), "tensor 'w' is described by a JSON number", "expected an object with dtype, shape and data_offsets");
    }

    [Theory]
    [InlineData("dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}")]
    [InlineData("shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}")]
    [InlineData("data_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}")]
    public void Reader_refuses_an_entry_missing_a_field(string field, string header)
    {
        AssertRefused(Build(header, Floats(1f)), $"tensor 'w' has no {field}");
    }

    [Fact]
    public void Reader_refuses_a_dtype_that_is_not_a_string()
    {
        AssertRefused(Build("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", Floats(1f)), "tensor 'w': dtype is a JSON number", "expected a string");
    }

    [Fact]
    public void Reader_refuses_a_negative_dimension()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[2, -1]", 0, 4) + "}", Floats(1f)), "tensor 'w': shape [2, -1] has a negative dimension (-1)");
    }

    [Fact]
    public void Reader_refuses_a_shape_that_is_not_an_array_of_integers()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[1.5]", 0, 4) + "}", Floats(1f)), "tensor 'w': shape [1.5]", "not an integer");
        AssertRefused(Build("{" + Entry("w", "F32", "\"2x2\"", 0, 4) + "}", Floats(1f)), "tensor 'w': shape is a JSON string");
    }

    [Fact]
    public void Reader_refuses_data_offsets_that_are_not_two_non_negative_integers()
    {
        AssertRefused(Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", Floats(1f)), "data_offsets is [0]", "expected [begin, end]");
        AssertRefused(Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", Floats(1f)), "data_offsets is [-4,0]");
    }

    [Fact]
    public void Reader_refuses_data_offsets_past_the_data_buffer()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[2]", 0, 8) + "}", Floats(1f)), "tensor 'w': data_offsets [0, 8] reach past the end of the data buffer (4 bytes)");
    }

    [Fact]
    public void Reader_refuses_data_offsets_that_end_before_they_begin()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[0]", 4, 0) + "}", Floats(1f)), "tensor 'w': data_offsets [4, 0] end before they begin");
    }

    [Fact]
    public void Reader_refuses_a_byte_length_that_does_not_match_the_shape_and_dtype()
    {
        AssertRefused(Build("{" + Entry("w", "F32", "[2, 3]", 0, 20) + "}", new byte[20]), "tensor 'w' (F32, shape [2, 3]) needs 24 bytes but data_offsets [0, 20] span 20 bytes");
        AssertRefused(Build("{" + Entry("h", "F16", "[3]", 0, 4) + "}", new byte[4]), "tensor 'h' (F16, shape [3]) needs 6 bytes");
    }

    [Fact]
    public void Reader_refuses_a_shape_whose_byte_count_would_overflow()
    {
        var huge = $"[{int.MaxValue}, {int.MaxValue}, {int.MaxValue}, {int.MaxValue}, {int.MaxValue}]";

        AssertRefused(Build("{" + Entry("w", "F64", huge, 0, 8) + "}", new byte[8]), $"needs more than {long.MaxValue} bytes");
    }

    [Fact]
    public void Reader_refuses_duplicate_tensor_names()
    {
        var header = "{" + Entry("w", "F32", "[1]", 0, 4) + "," + Entry("w", "F32", "[1]", 4, 8) + "}";

        AssertRefused(Build(header, Floats(1f, 2f)), "tensor 'w' appears twice", "expected unique names");
    }

    [Fact]
    public void Reader_refuses_metadata_that_is_not_a_map_of_strings()
    {
        AssertRefused(Build("{\"__metadata__\":{\"epoch\":3}}"), "'__metadata__' value 'epoch' is a JSON number", "expected a string");
        AssertRefused(Build("{\"__metadata__\":[\"pt\"]}"), "'__metadata__' is a JSON array");
    }

    [Fact]
    public void Errors_from_a_file_name_the_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("broken.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);

        var e = Assert.Throws<SafetensorsFormatException>(() => Safetensors.Read(path));

        Assert.StartsWith($"{path}: invalid safetensors file: it is 3 byte(s) long", e.Message, StringComparison.Ordinal);
    }

    // Found by fuzzing the safetensors reader (scripts/fuzz.sh safetensors): JSON escapes that spell an unpaired UTF-16
    // surrogate parse, but System.Text.Json's InvalidOperationException for them (from GetString, JsonProperty.Name and
    // TryGetProperty) escaped Safetensors.Read.
    public static TheoryData<byte[], string> UnreadableHeaders => new()
    {
        { Build("""{"\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", Floats(1f)), "a tensor name in the header is not valid Unicode" },
        { Build("""{"w":{"dtype":"\ud800","shape":[1],"data_offsets":[0,4]}}""", Floats(1f)), "tensor 'w': dtype is \"\\ud800\", which is not valid Unicode" },
        { Build("""{"__metadata__":{"\udc00":"pt"}}"""), "a '__metadata__' key is not valid Unicode" },
        { Build("""{"__metadata__":{"format":"p\udc00t"}}"""), "'__metadata__' value 'format' is \"p\\udc00t\", which is not valid Unicode" },
        { Build("""{"w":{"dtype":"F32","\ud800":1,"shape":[1],"data_offsets":[0,4]}}""", Floats(1f)), "tensor 'w' has a key that is not valid Unicode" },
        // afl-fuzz's input (safetensors campaign, 154 s in), byte for byte: the key reached TryGetProperty.
        { Convert.FromHexString(
            "33010000000000007b225f5f6d657461646174615f5f223a7b22666f727a6174223a227074227d2c2261223a7b226474797065223a22492736222c22" +
            "7368617065223a5b325d2c22646174615f6f666673657473223a5b302c345d7d2c2262223a7b226474797065223a22424b3136222c22736861706522" +
            "3a5b312c325d2c22646174615f6f666673657473223a5b342c385d7d2c2263223a7b226474797065223a22463634222c227368617065223a5b315d2c" +
            "22646174615f6f666673657473223a5b382c31365d7d2c2264223a7b226474797065223a22693634222c227368617065223a5b315d2c22645c756438" +
            "30306673657473223a5b31362c32345d7d2c2266223a7b226474797065223a22433332222c22734f617065223a5b302e335d2c226461747c5f6f6666" +
            "73657473223a5b32342c32345d7d7d003c00c0803f4400000000000000f03f0700000000000000"), "tensor 'd' has a key that is not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(UnreadableHeaders))]
    public void Reader_refuses_names_and_strings_that_are_not_valid_unicode(byte[] file, string message)
    {
        AssertRefused(file, message);
    }

    private static void AssertRefused(byte[] bytes, params string[] fragments)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => Safetensors.Read(bytes, "x.safetensors"));
        Assert.StartsWith("x.safetensors: invalid safetensors file: ", e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"expected \"{fragment}\" in: {e.Message}");
        }
    }
}

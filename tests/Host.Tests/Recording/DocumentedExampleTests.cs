using Streaming.Host.Recording;

namespace Host.Tests.Recording;

/// <summary>The complete example of docs/recording-format.md is a recording the reader accepts as described.</summary>
public sealed class DocumentedExampleTests
{
    private static string Example()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "docs", "recording-format.md")))
        {
            folder = folder.Parent;
        }

        Assert.NotNull(folder);
        var page = File.ReadAllText(Path.Combine(folder.FullName, "docs", "recording-format.md"));
        var start = page.IndexOf("```jsonl\n", StringComparison.Ordinal) + "```jsonl\n".Length;
        return page[start..page.IndexOf("```", start, StringComparison.Ordinal)];
    }

    [Fact]
    public void The_documented_example_reads_with_the_lines_the_page_names()
    {
        using var reader = new RecordingReader(new StringReader(Example()), "example", "/recordings");
        Assert.Equal(new RecordingHeader("models/tiny-lstm.json", 1e-4), reader.Header);
        var ops = reader.ReadToEnd();
        Assert.Equal(16, ops.Count);
        Assert.Equal(new[] { 6, 7, 14, 15, 17 }, ops.Where(op => op.ExpectError).Select(op => op.Line));
        Assert.DoesNotContain(ops, op => op.Line == 10);
        Assert.Equal(2, ((RecordedToken)ops.Single(op => op.Line == 6)).Input.Length);
        Assert.True(float.IsNaN(((RecordedToken)ops.Single(op => op.Line == 7)).Input.Span[0]));
        var snapshot = (RecordedSnapshot)ops.Single(op => op.Line == 9);
        Assert.Equal((2, 2), (snapshot.ExpectH!.Rows, snapshot.ExpectH.Columns));
        Assert.Equal(3, ((RecordedReplay)ops.Single(op => op.Line == 11)).Steps);
        Assert.Equal(new[] { "a", "b" }, ops.Where(op => op.Op == "open").Select(op => op.Session));
        Assert.Equal((4, 0), (((RecordedGenerate)ops.Single(op => op.Line == 14)).MaxSteps, ((RecordedGenerate)ops.Single(op => op.Line == 14)).PromptSteps));
    }
}

namespace Streaming.Generators;

/// <summary>Finds the repository's folders, so that the generator run with no arguments writes where the files are committed.</summary>
internal static class RepositoryPaths
{
    public static string Root()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Streaming.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"no folder above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}' holds Streaming.sln; pass the output folder explicitly.");
    }

    public static string ExampleModels() => Path.Combine(Root(), "config", "models");

    public static string Recordings() => Path.Combine(Root(), "tests", "recordings");

    /// <summary>The training texts of the example model char-english (tests/Generators/Corpus).</summary>
    public static string Corpus() => Path.Combine(Root(), "tests", "Generators", "Corpus");
}

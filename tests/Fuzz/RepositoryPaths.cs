namespace Streaming.Fuzz;

/// <summary>Finds the repository, so that the harness reads and writes the committed corpora wherever it runs from.</summary>
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
            $"no folder above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}' holds Streaming.sln; run from inside the repository.");
    }
}

namespace Streaming.Host;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine(
            "Streaming.Host: the worker service (serve, replay, record) is not built yet; " +
            "the numerics live in Streaming.Cells. Run the tests with the README's test command.");
        return args.Length == 0 ? 0 : 2;
    }
}

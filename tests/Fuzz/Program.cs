using SharpFuzz;
using Streaming.Fuzz;

// The fuzz harness: one program for every target (scripts/fuzz.sh builds, instruments and runs it under afl-fuzz).
const string Usage = """
    usage: Streaming.Fuzz <target>                        under afl-fuzz: check each input afl-fuzz sends on stdin
           Streaming.Fuzz check <target> <file|folder>... check the given inputs, print each that breaks the contract
           Streaming.Fuzz smoke <target> [mutations]      check the seed corpus and random mutations of it, in process
           Streaming.Fuzz seeds [folder]                  write every target's seed corpus (default tests/Fuzz/corpus)
           Streaming.Fuzz instrument <target>             print the assemblies and type prefixes to instrument
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage + Environment.NewLine + "targets:" + Environment.NewLine
        + string.Join(Environment.NewLine, FuzzTargets.All.Select(t => $"  {t.Name,-12} {t.Description}")));
    return 2;
}

try
{
    return args[0] switch
    {
        "check" when args.Length >= 3 => Check(FuzzTargets.Named(args[1]), args[2..]),
        "smoke" when args.Length is 2 or 3 => Smoke(FuzzTargets.Named(args[1]), args.Length == 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000),
        "seeds" when args.Length <= 2 => WriteSeeds(args.Length == 2 ? args[1] : null),
        "instrument" when args.Length == 2 => Instrument(FuzzTargets.Named(args[1])),
        _ when args.Length == 1 => Fuzz(FuzzTargets.Named(args[0])),
        _ => Fail(Usage),
    };
}
catch (ArgumentException e)
{
    return Fail(e.Message);
}

static int Fuzz(FuzzTarget target)
{
    // Out of process: a child runs the inputs and is restarted when it dies (a stack overflow, a hang that
    // afl-fuzz kills), so one bad input does not end the campaign.
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        target.Check(memory.ToArray());
    });
    return 0;
}

static int Check(FuzzTarget target, string[] paths)
{
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
    var broken = 0;
    foreach (var file in files)
    {
        if (SmokeRun.Failure(target, File.ReadAllBytes(file)) is { } failure)
        {
            broken++;
            Console.WriteLine($"{file}: {failure}");
        }
    }

    Console.WriteLine($"{files.Count - broken} passed, {broken} failed");
    return broken == 0 ? 0 : 1;
}

static int Smoke(FuzzTarget target, int mutations)
{
    var failures = SmokeRun.Run(target, FuzzTargets.Corpus(target), mutations, randomSeed: 1);
    foreach (var failure in failures)
    {
        Console.WriteLine(failure);
    }

    Console.WriteLine($"{target.Name}: seeds and {mutations} mutations checked; {failures.Count} broke the contract");
    return failures.Count == 0 ? 0 : 1;
}

static int WriteSeeds(string? folder)
{
    var root = RepositoryPaths.Root();
    foreach (var target in FuzzTargets.All)
    {
        // The folder holds exactly what the target's seeds are now, each distinct content once.
        var into = folder is null ? FuzzTargets.CorpusFolder(root, target) : Path.Combine(folder, target.Name);
        if (Directory.Exists(into))
        {
            Directory.Delete(into, recursive: true);
        }

        Directory.CreateDirectory(into);
        var seeds = target.Seeds(root).DistinctBy(s => Convert.ToHexString(s.Bytes)).ToList();
        foreach (var (name, bytes) in seeds)
        {
            File.WriteAllBytes(Path.Combine(into, name), bytes);
        }

        Console.WriteLine($"{target.Name}: {seeds.Count} seed(s) in {into}");
    }

    return 0;
}

static int Instrument(FuzzTarget target)
{
    foreach (var (assembly, prefixes) in target.Instrumented)
    {
        Console.WriteLine($"{assembly} {prefixes}");
    }

    return 0;
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

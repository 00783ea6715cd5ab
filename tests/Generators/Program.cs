using System.Globalization;
using Streaming.Generators;
using Streaming.Generators.Models;
using Streaming.Generators.Recordings;
using Streaming.Generators.Training;

// Generates the example models (config/models) and the recordings (tests/recordings) from libtorch under
// fixed seeds; the output bytes are the same run to run. Usage:
//   dotnet run --project tests/Generators                        both, into the repository's folders
//   dotnet run --project tests/Generators -- models [folder]     the example models (default config/models)
//   dotnet run --project tests/Generators -- recordings [folder] the recordings and their models (default tests/recordings)
//   dotnet run -c Release --project tests/Generators -- train [folder]
//                                                                trains char-english on tests/Generators/Corpus (minutes;
//                                                                not part of "all"), default config/models
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// One thread: libtorch's results then do not depend on how the work is split across cores.
TorchSharp.torch.set_num_threads(1);

var command = args.Length > 0 ? args[0] : "all";
var folder = args.Length > 1 ? Path.GetFullPath(args[1]) : null;
if (args.Length > 2)
{
    return Usage();
}

switch (command)
{
    case "models":
        ExampleGenerator.WriteAll(folder ?? RepositoryPaths.ExampleModels(), Console.Out);
        return 0;
    case "recordings":
        RecordingGenerator.WriteAll(folder ?? RepositoryPaths.Recordings(), Console.Out);
        return 0;
    case "train":
        TrainCommand.Run(folder ?? RepositoryPaths.ExampleModels(), Console.Out);
        return 0;
    case "all" when folder is null:
        ExampleGenerator.WriteAll(RepositoryPaths.ExampleModels(), Console.Out);
        RecordingGenerator.WriteAll(RepositoryPaths.Recordings(), Console.Out);
        return 0;
    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: Streaming.Generators [models [folder] | recordings [folder] | train [folder]]  (no argument: models and recordings, into config/models and tests/recordings)");
    return 2;
}

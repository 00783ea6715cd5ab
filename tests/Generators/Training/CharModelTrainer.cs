using System.Diagnostics;
using System.Globalization;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Generators.Training;

/// <summary>
/// Trains <see cref="CharLanguageModel"/> as a character language model (predict the next character) with libtorch's
/// autograd, deterministically: one thread (set by the program), every random draw from the seed, no wall-clock input.
/// </summary>
internal static class CharModelTrainer
{
    /// <summary>Trains on <paramref name="train"/>, reports each epoch against <paramref name="heldOut"/>, returns the weights.</summary>
    public static (ModelWeights Weights, IReadOnlyList<EpochReport> Epochs) Train(
        TrainingOptions options, int vocabulary, int[] train, int[] heldOut, Action<EpochReport> report)
    {
        torch.manual_seed(options.Seed);
        var order = new Random(options.Seed);
        using var model = new CharLanguageModel(options.Spec(vocabulary), options.Dropout);
        var parameters = model.parameters().ToArray();
        using var optimizer = torch.optim.Adam(parameters, options.LearningRate);
        var windowsPerEpoch = WindowCount(train.Length, options);
        var totalSteps = windowsPerEpoch * options.Epochs;
        var step = 0;
        var clock = Stopwatch.StartNew();
        var epochs = new List<EpochReport>();
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            model.train();
            // A new offset each epoch, so the windows' borders fall elsewhere in the text.
            var offset = order.Next(options.Bptt);
            var streamLength = (train.Length - 1 - offset) / options.Streams;
            var h = torch.zeros(options.NumLayers, options.Streams, options.HiddenSize);
            var c = torch.zeros(options.NumLayers, options.Streams, options.HiddenSize);
            double sum = 0;
            for (var w = 0; w < windowsPerEpoch; w++, step++)
            {
                SetLearningRate(optimizer, options, step, totalSteps);
                using var scope = torch.NewDisposeScope();
                var (inputs, targets) = Window(train, offset, streamLength, w * options.Bptt, options);
                var (logits, (hn, cn)) = model.forward(inputs, (h, c));
                var loss = nn.functional.cross_entropy(logits.reshape(-1, vocabulary), targets.reshape(-1));
                optimizer.zero_grad();
                loss.backward();
                nn.utils.clip_grad_norm_(parameters, options.ClipNorm);
                optimizer.step();
                sum += loss.item<float>();
                h.Dispose();
                c.Dispose();
                // Truncated BPTT: the state carries on into the next window, its history does not.
                h = hn.detach().MoveToOuterDisposeScope();
                c = cn.detach().MoveToOuterDisposeScope();
            }

            h.Dispose();
            c.Dispose();
            var (heldOutLoss, accuracy) = Evaluate(model, vocabulary, heldOut, options);
            var line = new EpochReport(epoch, sum / windowsPerEpoch, heldOutLoss, accuracy, clock.Elapsed);
            epochs.Add(line);
            report(line);
        }

        return (Export(model), epochs);
    }

    /// <summary>The mean cross-entropy and the greedy next-character accuracy over one sequence from zero state, dropout off.</summary>
    public static (double Loss, double Accuracy) Evaluate(CharLanguageModel model, int vocabulary, int[] ids, TrainingOptions options)
    {
        model.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var length = ids.Length - 1;
        var inputs = torch.tensor(ids.Take(length).Select(i => (long)i).ToArray(), new long[] { length, 1 });
        var targets = torch.tensor(ids.Skip(1).Select(i => (long)i).ToArray(), new long[] { length });
        var zeros = torch.zeros(options.NumLayers, 1, options.HiddenSize);
        var (logits, _) = model.forward(inputs, (zeros, zeros));
        var flat = logits.reshape(-1, vocabulary);
        var loss = nn.functional.cross_entropy(flat, targets).item<float>();
        var correct = flat.argmax(1).eq(targets).sum().item<long>();
        return (loss, (double)correct / length);
    }

    private static int WindowCount(int length, TrainingOptions options)
    {
        // The shortest epoch (largest offset) decides, so that every epoch takes the same number of steps.
        var streamLength = (length - 1 - (options.Bptt - 1)) / options.Streams;
        var windows = streamLength / options.Bptt;
        return windows > 0
            ? windows
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"the corpus has {length} characters; {options.Streams} streams of {options.Bptt}-step windows need at least {options.Streams * options.Bptt * 2}."));
    }

    // Inputs and targets (bptt, streams): stream s reads the text from offset + s * streamLength.
    private static (Tensor Inputs, Tensor Targets) Window(int[] text, int offset, int streamLength, int start, TrainingOptions options)
    {
        var inputs = new long[options.Bptt * options.Streams];
        var targets = new long[inputs.Length];
        for (var t = 0; t < options.Bptt; t++)
        {
            for (var s = 0; s < options.Streams; s++)
            {
                var at = offset + (s * streamLength) + start + t;
                inputs[(t * options.Streams) + s] = text[at];
                targets[(t * options.Streams) + s] = text[at + 1];
            }
        }

        var shape = new long[] { options.Bptt, options.Streams };
        return (torch.tensor(inputs, shape), torch.tensor(targets, shape));
    }

    private static void SetLearningRate(torch.optim.Optimizer optimizer, TrainingOptions options, int step, int totalSteps)
    {
        var floor = options.LearningRate * options.FinalLearningRateFactor;
        var rate = floor + ((options.LearningRate - floor) * 0.5 * (1 + Math.Cos(Math.PI * step / totalSteps)));
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = rate;
        }
    }

    // The state_dict under the wrapper's field names, as torch.save(model.state_dict()) would name it.
    private static ModelWeights Export(CharLanguageModel model)
    {
        var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        foreach (var (name, value) in model.state_dict())
        {
            using var contiguous = value.detach().contiguous();
            tensors[name] = new FloatTensor(value.shape.Select(d => (int)d).ToArray(), contiguous.data<float>().ToArray());
        }

        return ModelWeights.FromTensors(model.Spec, tensors);
    }
}

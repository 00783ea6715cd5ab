using System.Text;
using Akka.Actor;
using Microsoft.ML.OnnxRuntime;
using Streaming.Benchmarks.Onnx;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;

namespace Streaming.Benchmarks;

/// <summary>
/// ONNX Runtime, the peer a .NET user would pick instead: the same LSTM as an ONNX graph (<see cref="OnnxLstmGraph"/>),
/// checked against the float64 reference, then timed in the same run against the Managed backend and the engine:
/// a batched step of 1,024 sessions at W with the state gathered and scattered by the caller, one session's step at
/// hidden 32 and 256, and a bulk sequence.
/// </summary>
internal static class OnnxScenario
{
    private const int Sessions = 1024;

    public static string Run(bool quick)
    {
        var text = new StringBuilder();
        text.AppendLine($"### ONNX Runtime {OrtEnv.Instance().GetVersionString()} against the Managed backend and the engine");
        text.AppendLine();
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, InterOpNumThreads = 1 };
        var weights = Workloads.Weights(Workloads.W, seed: 1);
        using var w = new InferenceSession(OnnxLstmGraph.Build(weights), options);

        var (onnxError, managedError) = Agreement(w, weights);
        text.AppendLine($"Agreement at W (8 sequences x 16 steps from random non-zero states), largest |error| against the float64 reference "
            + $"of PyTorch's equations over outputs, h_n and c_n: ONNX Runtime {onnxError:E2}, Managed {managedError:E2}; tolerance 1e-5: "
            + (onnxError <= 1e-5 ? "ONNX Runtime agrees." : "**ONNX Runtime does not agree; its timings below are not comparable.**"));
        text.AppendLine();

        var tokens = quick ? 8 : 32;
        var repetitions = quick ? 3 : 5;
        var input = Workloads.Values(new Random(2), tokens * Sessions * Workloads.W.InputSize);
        var onnxStep = Measure.MedianSeconds(() => OnnxStepAll(w, Workloads.W, input, tokens), repetitions);
        double managedStep;
        using (var managed = RecurrentBackends.Create(weights, BackendOptions.Managed))
        {
            managedStep = Measure.MedianSeconds(() => BatchedStepScenario.StepAll(managed, input, tokens, Sessions), repetitions);
        }

        var engineStep = EngineSeconds(weights, input, tokens, quick ? 1 : 3);
        var flops = 2.0 * tokens * Sessions * Workloads.W.NumLayers * 4 * Workloads.W.HiddenSize * (Workloads.W.InputSize + Workloads.W.HiddenSize);
        text.AppendLine($"Batched step at W (LSTM 2 x 256, input 256): {Sessions} sessions x {tokens} tokens, one token of every session per call; "
            + "ONNX Runtime's state gathered from and scattered to per-session arrays by the caller:");
        text.AppendLine();
        text.AppendLine("| measure | tokens/s | GFLOP/s | of peak | vs ONNX Runtime | target |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var (name, seconds, target) in new[]
        {
            ("ONNX Runtime LSTM, batched step", onnxStep, "reference"),
            ("Managed backend, batched step", managedStep, "(the engine's kernel)"),
            ("engine, Managed backend (1,024 sessions pushing)", engineStep, ">= 1.0"),
        })
        {
            text.AppendLine($"| {name} | {tokens * Sessions / seconds:N0} | {flops / seconds / 1e9:F1} | {MatrixPeak.Of(flops / seconds)} | {onnxStep / seconds:F2} | {target} |");
        }

        text.AppendLine();
        text.AppendLine("One session, one token per call (LSTM 1 layer, input = hidden; ONNX Runtime with its inputs and outputs bound once):");
        text.AppendLine();
        text.AppendLine("| hidden | ONNX Runtime | of peak | Managed step | of peak | Managed speed-up | target |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        var calls = quick ? 1_000 : 10_000;
        foreach (var hidden in new[] { 32, 256 })
        {
            var spec = new RecurrentSpec(RecurrentMode.Lstm, hidden, hidden);
            var single = Workloads.Weights(spec, seed: hidden);
            var token = Workloads.Values(new Random(hidden), hidden);
            using var session = new InferenceSession(OnnxLstmGraph.Build(single), options);
            var onnx = OnnxSingleStepSeconds(session, hidden, token, calls, quick ? 5 : 9);
            var managed = SingleSessionScenario.StepSeconds(single, BackendOptions.Managed, token, new float[hidden], calls, quick ? 5 : 9);
            text.AppendLine($"| {hidden} | {onnx * 1e6:F2} us | {MatrixPeak.OfTokens(1 / onnx, spec)} | {managed * 1e6:F2} us | {MatrixPeak.OfTokens(1 / managed, spec)} | {onnx / managed:F1}x | >= 2x |");
        }

        text.AppendLine();
        text.AppendLine("Bulk sequence at W, the whole sequence in one call:");
        text.AppendLine();
        text.AppendLine("| work | ONNX Runtime | of peak | Managed bulk Forward | of peak | Managed vs ONNX Runtime |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        using (var model = new RecurrentModel(RecurrentBackends.Create(weights, BackendOptions.Managed)))
        {
            foreach (var (sequences, steps) in new[] { (1, quick ? 64 : 256), (64, 64) })
            {
                var x = Workloads.Values(new Random(3), steps * sequences * Workloads.W.InputSize);
                var onnx = Measure.MedianSeconds(() => OnnxBulk(w, Workloads.W, x, steps, sequences), repetitions);
                var request = SequenceInput.FromVectors(x, steps, sequences);
                var managed = Measure.MedianSeconds(() => model.Forward(request), repetitions);
                var sequenceTokens = (double)sequences * steps;
                text.AppendLine($"| {sequences} sequence{(sequences == 1 ? "" : "s")} x {steps} steps | {onnx * 1e3:F2} ms | {MatrixPeak.OfTokens(sequenceTokens / onnx, Workloads.W)} | {managed * 1e3:F2} ms | {MatrixPeak.OfTokens(sequenceTokens / managed, Workloads.W)} | {onnx / managed:F2} |");
            }
        }

        return text.ToString();
    }

    // Random non-zero states through both layers, ONNX Runtime and Managed each against the float64 layers.
    private static (double Onnx, double Managed) Agreement(InferenceSession session, ModelWeights weights)
    {
        const int batch = 8, steps = 16;
        var spec = weights.Spec.Recurrent;
        var random = new Random(5);
        var x = Workloads.Values(random, steps * batch * spec.InputSize);
        var h0 = Enumerable.Range(0, spec.NumLayers).Select(_ => Workloads.Values(random, batch * spec.HiddenSize, 0.5)).ToArray();
        var c0 = Enumerable.Range(0, spec.NumLayers).Select(_ => Workloads.Values(random, batch * spec.HiddenSize, 0.5)).ToArray();

        var expected = new List<double[]>();
        var current = Array.ConvertAll(x, v => (double)v);
        var hn = new List<double[]>();
        var cn = new List<double[]>();
        for (var k = 0; k < spec.NumLayers; k++)
        {
            var (output, h, c) = new Float64Layer(spec.Layer(k), weights.Layers[k]).Forward(
                current, steps, batch, Array.ConvertAll(h0[k], v => (double)v), Array.ConvertAll(c0[k], v => (double)v));
            current = output;
            hn.Add(h);
            cn.Add(c);
        }

        expected.Add(current);
        expected.AddRange(hn);
        expected.AddRange(cn);

        var onnx = OnnxRun(session, spec, x, steps, batch, h0, c0);
        using var model = new RecurrentModel(RecurrentBackends.Create(weights, BackendOptions.Managed));
        var managed = model.Forward(SequenceInput.FromVectors(x, steps, batch, h0: h0.SelectMany(v => v).ToArray(), c0: c0.SelectMany(v => v).ToArray()));
        var managedParts = new List<float[]> { managed.Output.ToArray() };
        managedParts.AddRange(Split(managed.HN.ToArray(), spec.NumLayers));
        managedParts.AddRange(Split(managed.CN.ToArray(), spec.NumLayers));
        return (Worst(expected, onnx), Worst(expected, managedParts));
    }

    private static IEnumerable<float[]> Split(float[] values, int parts) => values.Chunk(values.Length / parts);

    private static double Worst(List<double[]> expected, IReadOnlyList<float[]> actual)
    {
        var worst = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i].Length != actual[i].Length)
            {
                throw new InvalidOperationException($"part {i} has {actual[i].Length} values; expected {expected[i].Length}.");
            }

            for (var j = 0; j < expected[i].Length; j++)
            {
                worst = Math.Max(worst, Math.Abs(expected[i][j] - actual[i][j]));
            }
        }

        return worst;
    }

    // One call over (steps, batch) from the given states: y, then hn and cn of every layer.
    private static List<float[]> OnnxRun(InferenceSession session, RecurrentSpec spec, float[] x, int steps, int batch, float[][] h0, float[][] c0)
    {
        var names = new List<string> { "x" };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(x, [steps, batch, spec.InputSize]) };
        for (var k = 0; k < spec.NumLayers; k++)
        {
            names.Add($"h0_{k}");
            values.Add(OrtValue.CreateTensorValueFromMemory(h0[k], [1, batch, spec.HiddenSize]));
            names.Add($"c0_{k}");
            values.Add(OrtValue.CreateTensorValueFromMemory(c0[k], [1, batch, spec.HiddenSize]));
        }

        var outputNames = new List<string> { "y" };
        outputNames.AddRange(Enumerable.Range(0, spec.NumLayers).Select(k => $"hn_{k}"));
        outputNames.AddRange(Enumerable.Range(0, spec.NumLayers).Select(k => $"cn_{k}"));
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, names, values, outputNames);
        foreach (var value in values)
        {
            value.Dispose();
        }

        return outputs.Select(o => o.GetTensorDataAsSpan<float>().ToArray()).ToList();
    }

    private static void OnnxBulk(InferenceSession session, RecurrentSpec spec, float[] x, int steps, int batch)
    {
        var zeros = Enumerable.Range(0, spec.NumLayers).Select(_ => new float[batch * spec.HiddenSize]).ToArray();
        OnnxRun(session, spec, x, steps, batch, zeros, zeros);
    }

    // Each token of every session as one batched call; the states live per session and are gathered into the
    // call's inputs and scattered back from its outputs, as a server built on ONNX Runtime would have to.
    private static void OnnxStepAll(InferenceSession session, RecurrentSpec spec, float[] input, int tokens)
    {
        int hidden = spec.HiddenSize, layers = spec.NumLayers, width = Sessions * spec.InputSize;
        var states = Enumerable.Range(0, Sessions).Select(_ => new float[layers * 2 * hidden]).ToArray();
        var x = new float[width];
        var inBuffers = Enumerable.Range(0, layers * 2).Select(_ => new float[Sessions * hidden]).ToArray();
        var outBuffers = Enumerable.Range(0, layers * 2).Select(_ => new float[Sessions * hidden]).ToArray();
        var y = new float[Sessions * hidden];
        var names = new List<string> { "x" };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(x, [1, Sessions, spec.InputSize]) };
        var outputNames = new List<string> { "y" };
        var outputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(y, [1, Sessions, hidden]) };
        for (var k = 0; k < layers; k++)
        {
            names.Add($"h0_{k}");
            values.Add(OrtValue.CreateTensorValueFromMemory(inBuffers[2 * k], [1, Sessions, hidden]));
            names.Add($"c0_{k}");
            values.Add(OrtValue.CreateTensorValueFromMemory(inBuffers[2 * k + 1], [1, Sessions, hidden]));
            outputNames.Add($"hn_{k}");
            outputs.Add(OrtValue.CreateTensorValueFromMemory(outBuffers[2 * k], [1, Sessions, hidden]));
            outputNames.Add($"cn_{k}");
            outputs.Add(OrtValue.CreateTensorValueFromMemory(outBuffers[2 * k + 1], [1, Sessions, hidden]));
        }

        using var runOptions = new RunOptions();
        try
        {
            for (var t = 0; t < tokens; t++)
            {
                input.AsSpan(t * width, width).CopyTo(x);
                for (var s = 0; s < Sessions; s++)
                {
                    for (var part = 0; part < inBuffers.Length; part++)
                    {
                        states[s].AsSpan(part * hidden, hidden).CopyTo(inBuffers[part].AsSpan(s * hidden, hidden));
                    }
                }

                session.Run(runOptions, names, values, outputNames, outputs);
                for (var s = 0; s < Sessions; s++)
                {
                    for (var part = 0; part < outBuffers.Length; part++)
                    {
                        outBuffers[part].AsSpan(s * hidden, hidden).CopyTo(states[s].AsSpan(part * hidden, hidden));
                    }
                }
            }
        }
        finally
        {
            foreach (var value in values.Concat(outputs))
            {
                value.Dispose();
            }
        }
    }

    // One session's step with every input and output bound once; the new state is copied back into the inputs.
    private static double OnnxSingleStepSeconds(InferenceSession session, int hidden, float[] token, int calls, int samples)
    {
        float[] h = new float[hidden], c = new float[hidden], hn = new float[hidden], cn = new float[hidden], y = new float[hidden];
        using var x = OrtValue.CreateTensorValueFromMemory(token, [1, 1, hidden]);
        using var h0 = OrtValue.CreateTensorValueFromMemory(h, [1, 1, hidden]);
        using var c0 = OrtValue.CreateTensorValueFromMemory(c, [1, 1, hidden]);
        using var yValue = OrtValue.CreateTensorValueFromMemory(y, [1, 1, hidden]);
        using var hnValue = OrtValue.CreateTensorValueFromMemory(hn, [1, 1, hidden]);
        using var cnValue = OrtValue.CreateTensorValueFromMemory(cn, [1, 1, hidden]);
        using var runOptions = new RunOptions();
        string[] names = ["x", "h0_0", "c0_0"], outputNames = ["y", "hn_0", "cn_0"];
        OrtValue[] values = [x, h0, c0], outputs = [yValue, hnValue, cnValue];
        return Measure.MedianSecondsPerCall(() =>
        {
            session.Run(runOptions, names, values, outputNames, outputs);
            hn.CopyTo(h, 0);
            cn.CopyTo(c, 0);
        }, calls, samples);
    }

    private static double EngineSeconds(ModelWeights weights, float[] input, int tokens, int repetitions)
    {
        using var system = ActorSystem.Create("onnx-bench", PipelineScenario.Quiet);
        var engine = RecurrentEngine.StartAsync(system, ModelIdentity.Of("W", weights), weights, EngineOptions.Default with { Backend = BackendOptions.Managed })
            .GetAwaiter().GetResult();
        try
        {
            var ids = Enumerable.Range(0, Sessions).Select(i => $"s{i}").ToArray();
            Task.WhenAll(ids.Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
            Measure.WarmUp(() => PipelineScenario.PushAll(engine, ids, input, Workloads.W.InputSize, Math.Min(tokens, 8)), TimeSpan.FromSeconds(2));
            return Measure.MedianSeconds(() => PipelineScenario.PushAll(engine, ids, input, Workloads.W.InputSize, tokens), repetitions, warmup: 0);
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
        }
    }
}

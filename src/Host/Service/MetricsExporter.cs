using System.Globalization;
using Prometheus;
using Streaming.Host.Server;

namespace Streaming.Host.Service;

/// <summary>
/// Prometheus metrics of one engine and its server, served at <c>http://host:port/metrics</c>. The engine's and
/// server's own counters are read at each scrape, so the hot path pays nothing for them.
/// </summary>
internal sealed class MetricsExporter : IDisposable
{
    private readonly MetricServer _server;

    public MetricsExporter(string host, int port, RecurrentEngine engine, StreamingServer server)
    {
        var registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(registry);
        var sessionsOpen = factory.CreateGauge("streaming_sessions_open", "Sessions open, passivated ones included.");
        var sessionsPassivated = factory.CreateGauge("streaming_sessions_passivated", "Open sessions whose state is in the snapshot store.");
        var tokens = factory.CreateCounter("streaming_tokens_total", "Tokens computed: pushed tokens plus replayed steps.");
        var inPipeline = factory.CreateGauge("streaming_pipeline_elements", "Elements (tokens and control elements) inside the pipeline now.");
        var batches = factory.CreateCounter("streaming_stage_batches_total", "Batches computed per stage.", "stage");
        var elements = factory.CreateCounter("streaming_stage_elements_total", "Elements computed per stage.", "stage");
        var busy = factory.CreateCounter("streaming_stage_busy_seconds_total", "Seconds each stage spent computing batches (step time per layer).", "stage");
        var queueWait = factory.CreateCounter("streaming_stage_queue_wait_seconds_total", "Seconds elements waited in each stage's queue before their batch started, summed over elements.", "stage");
        var batchSizes = factory.CreateCounter("streaming_stage_batches_by_size_total", "Batches per stage by size bucket; max_size is the bucket's largest size.", "stage", "max_size");
        var connections = factory.CreateGauge("streaming_connections_open", "TCP connections open.");
        var pending = factory.CreateGauge("streaming_requests_pending", "Requests in flight plus replies waiting to be written, over all connections.");
        var pendingBytes = factory.CreateGauge("streaming_pending_bytes", "Bytes held by requests in flight (with the replies they can get) and replies waiting to be written, over all connections.");
        var refused = factory.CreateCounter("streaming_connections_refused_total", "Connections refused with TooManyConnections because the server held its connection limit.");
        var acceptFailures = factory.CreateCounter("streaming_accept_failures_total", "Accepts the operating system failed (out of descriptors, buffers or memory); the server backs off and retries.");
        var readPauses = factory.CreateCounter("streaming_read_pauses_total", "Times a connection stopped reading because it held its most pending requests or bytes (a client sending faster than it reads).");
        var errors = factory.CreateCounter("streaming_errors_total", "Error frames sent, by code (engine codes below 100, protocol codes from 100).", "code");
        var managedHeap = factory.CreateGauge("streaming_managed_heap_bytes", "Managed heap size after the last garbage collection (before the first, the bytes allocated so far); a leak shows as growth here, RSS includes native memory too.");
        Kernels(factory, engine.Kernels);
        registry.AddBeforeCollectCallback(() =>
        {
            var statistics = engine.Statistics;
            sessionsOpen.Set(statistics.SessionsOpen);
            sessionsPassivated.Set(statistics.SessionsPassivated);
            tokens.IncTo(statistics.TokensProcessed);
            inPipeline.Set(statistics.ElementsInPipeline);
            foreach (var stage in statistics.Stages)
            {
                batches.WithLabels(stage.Name).IncTo(stage.Batches);
                elements.WithLabels(stage.Name).IncTo(stage.Elements);
                busy.WithLabels(stage.Name).IncTo(stage.Busy.TotalSeconds);
                queueWait.WithLabels(stage.Name).IncTo(stage.QueueWait.TotalSeconds);
                for (var bucket = 0; bucket < stage.BatchSizeHistogram.Count; bucket++)
                {
                    // Bucket 0 holds batches of 1; bucket i holds sizes 2^(i-1)+1 .. 2^i.
                    batchSizes.WithLabels(stage.Name, (1L << bucket).ToString(CultureInfo.InvariantCulture)).IncTo(stage.BatchSizeHistogram[bucket]);
                }
            }

            // Before the first collection there is no "after the last GC": the bytes allocated so far stand in.
            var heap = GC.GetGCMemoryInfo();
            managedHeap.Set(heap.Index > 0 ? heap.HeapSizeBytes : GC.GetTotalMemory(forceFullCollection: false));
            var traffic = server.Statistics;
            connections.Set(traffic.ConnectionsOpen);
            pending.Set(traffic.Pending);
            pendingBytes.Set(traffic.PendingBytes);
            refused.IncTo(traffic.ConnectionsRefused);
            acceptFailures.IncTo(traffic.AcceptFailures);
            readPauses.IncTo(traffic.ReadPauses);
            foreach (var (code, count) in traffic.ErrorsByCode)
            {
                errors.WithLabels(code.ToString(CultureInfo.InvariantCulture)).IncTo(count);
            }
        });
        _server = new MetricServer(host, port, registry: registry);
        _server.Start();
    }

    public void Dispose() => _server.Dispose();

    // The kernel check ran once, before the engine served: its results are constants of the process.
    private static void Kernels(MetricFactory factory, Cells.Backends.KernelReport report)
    {
        var paths = factory.CreateGauge(
            "streaming_kernel_max_error",
            "Largest absolute error of each compute path tried by the kernel check against the float64 reference of PyTorch's equations; chosen is 1 for the path that serves the role, rejected is 1 for a path that failed the check.",
            "layer", "role", "path", "chosen", "rejected");
        foreach (var trial in report.Trials)
        {
            var layer = trial.Layer?.ToString(CultureInfo.InvariantCulture) ?? "head";
            paths.WithLabels(layer, trial.Role.ToString().ToLowerInvariant(), trial.Path, trial.Chosen ? "1" : "0", trial.Passed ? "0" : "1")
                .Set(double.IsFinite(trial.MaxError) ? trial.MaxError : double.PositiveInfinity);
        }

        factory.CreateGauge("streaming_kernel_worst_error", "Largest error among the compute paths that serve (the kernel check's verdict).").Set(report.WorstError);
        factory.CreateGauge("streaming_kernel_rejected_paths", "Compute paths the kernel check rejected on this machine (each replaced by one that passed).").Set(report.Rejected.Count());
        factory.CreateGauge("streaming_kernel_check_seconds", "How long the kernel check took at start-up.").Set(report.Duration.TotalSeconds);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Streaming.Benchmarks;

/// <summary>
/// What the process allocates, by type: the runtime's allocation-tick events (one about every 100 KB allocated, naming the
/// type of the object that crossed the mark), summed while the sampler is alive. A sampled estimate, not an exact count:
/// types below a few bytes per token are noise.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _on;

    public void Start() => _on = true;

    public void Clear() => _bytes.Clear();

    public void Stop() => _on = false;

    /// <summary>The types that took the most bytes, with bytes per <paramref name="units"/>.</summary>
    public IReadOnlyList<(string Type, double BytesPerUnit)> Top(int count, double units) =>
        _bytes.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value / units)).ToArray();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
        {
            return;
        }

        var names = e.PayloadNames!;
        var type = names.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}

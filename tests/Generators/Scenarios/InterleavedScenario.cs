using Streaming.Generators.Recordings;

namespace Streaming.Generators.Scenarios;

/// <summary>
/// Many sessions at once: each session's plan (open, from zeros or a random h0/c0; 5-20 tokens; now and
/// then a snapshot or a reset; a final snapshot; close) is fixed first, then the plans are interleaved by
/// repeatedly taking the next operation of a session drawn at random, so sessions open, run and close at
/// different times while each keeps its own order.
/// </summary>
internal static class InterleavedScenario
{
    public const int Sessions = 300;

    public static void Write(Recorder r, InputSource inputs)
    {
        var random = inputs.Random;
        var plans = new List<Queue<Action>>();
        for (var s = 0; s < Sessions; s++)
        {
            var id = $"s{s:D3}";
            var plan = new Queue<Action>();
            var initial = random.Next(3) == 0 ? inputs.State() : null;
            plan.Enqueue(() => r.Open(id, initial));
            var tokens = random.Next(5, 21);
            for (var t = 0; t < tokens; t++)
            {
                var step = inputs.Next();
                plan.Enqueue(() => r.Token(id, step));
                var roll = random.Next(40);
                if (roll < 3)
                {
                    plan.Enqueue(() => r.Snapshot(id));
                }
                else if (roll == 3)
                {
                    plan.Enqueue(() => r.Reset(id));
                }
            }

            plan.Enqueue(() => r.Snapshot(id));
            plan.Enqueue(() => r.Close(id));
            plans.Add(plan);
        }

        while (plans.Count > 0)
        {
            var i = random.Next(plans.Count);
            plans[i].Dequeue()();
            if (plans[i].Count == 0)
            {
                plans.RemoveAt(i);
            }
        }
    }
}

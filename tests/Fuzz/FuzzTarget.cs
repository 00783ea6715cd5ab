namespace Streaming.Fuzz;

/// <summary>
/// One parser under fuzzing and its contract: for every input it either succeeds, with a result that passes the
/// target's own checks, or throws one of the exception types it documents. Anything else that escapes
/// <see cref="Check"/> is a crash: an undocumented exception (IndexOutOfRange, NullReference, OutOfMemory, ...),
/// a <see cref="ContractViolationException"/>, or an allocation larger than <see cref="AllocationBudget"/> (a
/// length field trusted before the bytes it announces were there).
/// </summary>
public abstract class FuzzTarget
{
    private bool _prepared;

    /// <summary>The target's name on the command line and its corpus folder, tests/Fuzz/corpus/&lt;name&gt;.</summary>
    public abstract string Name { get; }

    /// <summary>What the target feeds its input to, for the program's usage text.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// The code to instrument for coverage: per assembly file, the type-name prefixes that make up the parser
    /// (passed to the sharpfuzz tool, so coverage counts the parser's edges, not the whole assembly's).
    /// </summary>
    public abstract IReadOnlyList<(string Assembly, string TypePrefixes)> Instrumented { get; }

    /// <summary>
    /// An <see cref="Instrumented"/> entry for the assembly of <paramref name="types"/>' first type and the given type-name
    /// prefixes, taken from the types themselves so that a renamed namespace cannot silently leave the parser uninstrumented.
    /// </summary>
    protected static (string Assembly, string TypePrefixes) Instrument(Type assemblyOf, params string[] prefixes)
    {
        ArgumentNullException.ThrowIfNull(assemblyOf);
        return (assemblyOf.Assembly.GetName().Name + ".dll", string.Join(',', prefixes));
    }

    /// <summary>
    /// The most bytes one input may allocate on the calling thread: 1 MiB plus 64 bytes per input byte. A parser
    /// that allocates what a length field asks for before checking the bytes are there exceeds it at once.
    /// </summary>
    public static long AllocationBudget(int inputLength) => (1L << 20) + 64L * inputLength;

    /// <summary>Feeds <paramref name="input"/> to the parser and checks the contract.</summary>
    /// <exception cref="Exception">Any exception escaping is a crash: the contract does not hold for this input.</exception>
    public void Check(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!_prepared)
        {
            Prepare();
            _prepared = true;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationBudget(input.Length))
        {
            throw new ContractViolationException(
                $"{Name}: a {input.Length}-byte input allocated {allocated} bytes; the budget is {AllocationBudget(input.Length)} (1 MiB + 64 per input byte).");
        }
    }

    /// <summary>The seed corpus: small, meaningful, valid (or nearly valid) inputs, by file name.</summary>
    /// <param name="repositoryRoot">The repository, for targets whose seeds come from shipped files.</param>
    public abstract IEnumerable<(string Name, byte[] Bytes)> Seeds(string repositoryRoot);

    /// <summary>One-time set-up before the first input, outside the allocation budget (an actor system, say).</summary>
    protected virtual void Prepare()
    {
    }

    /// <summary>Runs the parser(s) on <paramref name="input"/>, each through <see cref="Attempt"/>, and checks what they return.</summary>
    protected abstract void Run(byte[] input);

    /// <summary>Whether <paramref name="exception"/> is one the parser documents for bad input.</summary>
    protected abstract bool IsDocumented(Exception exception);

    /// <summary>Runs <paramref name="parse"/>, swallowing only the documented exceptions.</summary>
    protected void Attempt(Action parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        try
        {
            parse();
        }
        catch (Exception e) when (IsDocumented(e))
        {
            // A refusal the parser documents: the contract holds.
        }
    }
}

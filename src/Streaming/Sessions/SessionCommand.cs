namespace Streaming.Sessions;

/// <summary>A caller's operation, as <see cref="SessionMachine"/> needs to know it: which one, and the facts that decide it.</summary>
internal abstract record SessionCommand : SessionEvent
{
    private protected SessionCommand()
    {
    }

    /// <summary>Open from the given state or zeros.</summary>
    public sealed record Open : SessionCommand
    {
        public static Open Instance { get; } = new();
    }

    /// <summary>Install a snapshot (opening when needed); the session's position becomes <paramref name="Position"/>.</summary>
    public sealed record Restore(long Position) : SessionCommand;

    /// <summary>One token, at position <paramref name="At"/> only, or anywhere when null.</summary>
    public sealed record Push(long? At) : SessionCommand
    {
        public static Push Anywhere { get; } = new((long?)null);
    }

    /// <summary>Read the state.</summary>
    public sealed record Snapshot : SessionCommand
    {
        public static Snapshot Instance { get; } = new();
    }

    /// <summary>A whole sequence of <paramref name="Steps"/> tokens in bulk.</summary>
    public sealed record Replay(int Steps) : SessionCommand;

    /// <summary>
    /// A generation, whose first element (the prompt, or a look at the session's last output) moves the position by
    /// <paramref name="FirstSteps"/>; each further element it sends moves it by one.
    /// </summary>
    public sealed record Generate(int FirstSteps) : SessionCommand;

    /// <summary>State to zeros, position 0.</summary>
    public sealed record Reset : SessionCommand
    {
        public static Reset Instance { get; } = new();
    }

    /// <summary>Close the session and forget what the store kept of it.</summary>
    public sealed record Close : SessionCommand
    {
        public static Close Instance { get; } = new();
    }
}

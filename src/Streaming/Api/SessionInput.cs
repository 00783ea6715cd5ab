namespace Streaming;

/// <summary>One token for one session: the element of the multi-session <see cref="RecurrentEngine.Flow"/>.</summary>
/// <param name="SessionId">An open session.</param>
/// <param name="Token">Its next token.</param>
public sealed record SessionInput(string SessionId, Token Token);

namespace Streaming.Client;

/// <summary>What a <see cref="StreamingClient"/> did about requests refused StoreFailed, since it connected.</summary>
/// <param name="StoreFailedResends">Requests sent again after a StoreFailed (each resend counts once).</param>
/// <param name="StoreFailedGiveUps">Requests failed because their session's retries reached <see cref="StoreFailedRetry.GiveUpAfter"/>.</param>
/// <param name="StoreFailedNotResent">Requests refused StoreFailed that were not resent because a later request of their session was applied first (resending would have applied them out of order).</param>
/// <param name="SessionsRetrying">Sessions whose requests wait for a resend now.</param>
public sealed record StreamingClientStatistics(long StoreFailedResends, long StoreFailedGiveUps, long StoreFailedNotResent, int SessionsRetrying);

namespace EfNotify.AspNetCore;

/// <summary>The body of <c>POST …/dead-letters/replay</c>.</summary>
/// <param name="Ids">The dead-letter ids to replay.</param>
/// <param name="All">Replay every dead letter instead.</param>
public sealed record ReplayRequest(IReadOnlyList<long>? Ids, bool All = false);

/// <summary>The answer of <c>POST …/dead-letters/replay</c>.</summary>
/// <param name="Replayed">How many dead letters are pending again.</param>
public sealed record ReplayResult(int Replayed);

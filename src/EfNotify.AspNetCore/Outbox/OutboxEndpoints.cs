using EfNotify;
using EfNotify.AspNetCore;
using EfNotify.AspNetCore.Outbox;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Minimal endpoints over <see cref="IOutboxAdministration"/> for operators: backlog, dead letters, replay.</summary>
public static class EfNotifyOutboxEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}/backlog</c>, <c>GET {pattern}/dead-letters?take=50&amp;afterId=</c> and
    /// <c>POST {pattern}/dead-letters/replay</c> (body <c>{"ids":[…]}</c> or <c>{"all":true}</c>), all behind the given
    /// authorization policy: these endpoints show what was published and can publish again, so they are never open.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="policy">The authorization policy an operator must satisfy, for example <c>"Admin"</c>.</param>
    /// <param name="pattern">The route prefix. Default: <c>/efnotify/outbox</c>.</param>
    /// <returns>The route group, for further conventions.</returns>
    /// <exception cref="ArgumentException"><paramref name="policy"/> is empty.</exception>
    public static RouteGroupBuilder MapEfNotifyOutbox(this IEndpointRouteBuilder endpoints, string policy, string pattern = "/efnotify/outbox")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(policy);
        var group = endpoints.MapGroup(pattern).RequireAuthorization(policy);
        group.MapGet("/backlog", async (IOutboxAdministration outbox, CancellationToken cancellationToken) =>
            TypedResults.Json(await outbox.GetBacklogAsync(cancellationToken).ConfigureAwait(false), OutboxJsonContext.Default.OutboxBacklog));
        group.MapGet("/dead-letters", async (int? take, long? afterId, IOutboxAdministration outbox, CancellationToken cancellationToken) =>
            take is < 1 or > 1000
                ? Results.Problem("take must be between 1 and 1000.", statusCode: StatusCodes.Status400BadRequest)
                : TypedResults.Json(await outbox.ListDeadLettersAsync(take ?? 50, afterId, cancellationToken).ConfigureAwait(false), OutboxJsonContext.Default.IReadOnlyListDeadLetter));
        group.MapPost("/dead-letters/replay", async (ReplayRequest request, IOutboxAdministration outbox, CancellationToken cancellationToken) =>
        {
            if (request.All == (request.Ids is { Count: > 0 }))
            {
                return Results.Problem("Give either \"ids\" (a non-empty list) or \"all\": true.", statusCode: StatusCodes.Status400BadRequest);
            }

            var replayed = request.All
                ? await outbox.ReplayAllAsync(cancellationToken).ConfigureAwait(false)
                : await outbox.ReplayAsync(request.Ids!, cancellationToken).ConfigureAwait(false);
            return TypedResults.Json(new ReplayResult(replayed), OutboxJsonContext.Default.ReplayResult);
        });
        return group;
    }
}

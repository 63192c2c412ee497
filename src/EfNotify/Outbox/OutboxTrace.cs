using System.Diagnostics;
using Microsoft.EntityFrameworkCore.Metadata;

namespace EfNotify.Outbox;

/// <summary>
/// The trace context an outbox row keeps of the activity that wrote it (W3C <c>traceparent</c> and a small
/// <c>tracestate</c>), so the span that publishes the row can link to the trace of the request that saved the change.
/// </summary>
internal static class OutboxTrace
{
    /// <summary><c>00-{32 hex}-{16 hex}-{2 hex}</c>.</summary>
    public const int MaxTraceParentLength = 55;

    /// <summary>A longer <c>tracestate</c> is not kept: the row stays small.</summary>
    public const int MaxTraceStateLength = 256;

    /// <summary>
    /// Whether the application maps both trace columns; a database made before them may leave them out of its model
    /// (<c>Ignore</c>), and then no statement of EfNotify names them.
    /// </summary>
    public static bool IsMapped(IReadOnlyEntityType outbox)
        => outbox.FindProperty(nameof(OutboxMessage.TraceParent)) is not null && outbox.FindProperty(nameof(OutboxMessage.TraceState)) is not null;

    /// <summary>The current activity's context, or <see langword="false"/> when there is no W3C activity.</summary>
    public static bool TryCapture(out string traceParent, out string? traceState)
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { Length: MaxTraceParentLength } id } activity)
        {
            traceParent = id;
            traceState = activity.TraceStateString is { Length: > 0 and <= MaxTraceStateLength } state ? state : null;
            return true;
        }

        traceParent = "";
        traceState = null;
        return false;
    }

    /// <summary>Adds the row's context to <paramref name="links"/> unless it is absent, malformed or already there.</summary>
    public static void AddLink(OutboxMessage row, List<ActivityLink> links)
    {
        if (row.TraceParent is null || !ActivityContext.TryParse(row.TraceParent, row.TraceState, isRemote: true, out var context))
        {
            return;
        }

        foreach (var link in links)
        {
            if (link.Context == context)
            {
                return;
            }
        }

        links.Add(new ActivityLink(context));
    }
}

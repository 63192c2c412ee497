using System.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace EfNotify.IntegrationTests.Diagnostics;

/// <summary>
/// Issue 14: the trace of the request that committed a change reaches the span that publishes it, through the outbox row,
/// as OpenTelemetry exports them.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class TraceContextTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [SoketiFact]
    public async Task The_publish_span_links_to_the_trace_of_the_request_that_saved_the_change_and_carries_the_messaging_attributes()
    {
        using var requests = new ActivitySource("EfNotify.IntegrationTests.Requests." + Guid.NewGuid());
        var exported = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(requests.Name, EfNotifyDiagnostics.ActivitySourceName)
            .AddInMemoryExporter(exported)
            .Build();
        await using var host = await NotifyHost.StartAsync(server.Options);
        var owner = host.Services.GetServices<IHostedService>().OfType<OutboxDispatcher<BoardContext>>().Single().Owner;

        var untraced = await host.AddAsync(new Card { Title = "saved by a background job" });
        await host.AllDeliveredAsync(Deadline);
        Card traced;
        ActivityTraceId requestTrace;
        using (var request = requests.StartActivity("PUT /cards/{id}", ActivityKind.Server)!)
        {
            requestTrace = request.TraceId;
            traced = await host.AddAsync(new Card { Title = "saved in a request" });
        }

        await host.AllDeliveredAsync(Deadline);

        Activity[] Published() => exported.ToArray().Where(a => a.OperationName == EfNotifyDiagnostics.PublishActivityName
                                                                && (string?)a.GetTagItem("efnotify.dispatcher") == owner).ToArray();
        await host.ExplainAsync(Eventually.UntilAsync(() => Published().Length >= 2, Deadline, "two publish spans exported"));
        var spans = Published();
        var linked = Assert.Single(spans, s => (string?)s.GetTagItem("messaging.destination.name") == $"private-Card.{traced.Id}");
        var background = Assert.Single(spans, s => (string?)s.GetTagItem("messaging.destination.name") == $"private-Card.{untraced.Id}");

        var captures = exported.ToArray().Where(a => a.OperationName == EfNotifyDiagnostics.CaptureActivityName).ToArray();
        var capturedInRequest = Assert.Single(captures, c => c.TraceId == requestTrace);
        var link = Assert.Single(linked.Links).Context;
        Assert.Equal((requestTrace, capturedInRequest.SpanId), (link.TraceId, link.SpanId)); // the outbox write, inside the request
        Assert.NotEqual(requestTrace, linked.TraceId); // a span of its own, published after the request ended
        // Without a request the capture span is a trace of its own, and the publish span links to it.
        var backgroundLink = Assert.Single(background.Links).Context;
        Assert.Contains(captures, c => c.TraceId == backgroundLink.TraceId && c.SpanId == backgroundLink.SpanId && c.ParentSpanId == default);
        Assert.Equal(ActivityKind.Producer, linked.Kind);
        Assert.Equal("pusher", linked.GetTagItem("messaging.system"));
        Assert.Equal("send", linked.GetTagItem("messaging.operation.type"));
        Assert.Equal("publish", linked.GetTagItem("messaging.operation.name"));
        Assert.Equal(1, linked.GetTagItem("messaging.batch.message_count"));
        var rows = await host.RowsAsync();
        Assert.Equal($"00-{backgroundLink.TraceId}-{backgroundLink.SpanId}-01", rows[0].TraceParent);
        Assert.StartsWith($"00-{requestTrace}-", rows[1].TraceParent, StringComparison.Ordinal);
    }
}

using EfNotify.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace EfNotify.Tests.Dispatch;

/// <summary>What the tests of publishing on lanes share: a publication over a test transport, channels and rows.</summary>
internal static class LaneFixtures
{
    public static ClaimPublication Publication(INotificationTransport transport, int lanes, ResiliencePipeline? pipeline = null)
    {
        var monitor = new OutboxMonitor();
        var instrumentation = new EfNotifyInstrumentation(monitor, TimeProvider.System, null);
        var pause = new PauseGate(new RetrySchedule(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)), TimeProvider.System, instrumentation, monitor, NullLogger.Instance);
        return new ClaimPublication(
            new BatchPublisher(transport, pipeline ?? ResiliencePipeline.Empty, instrumentation, pause, "test"), new ChannelSequences(), new CoalescingStage(TimeProvider.System), pause, lanes, NullLogger.Instance);
    }

    /// <summary>Two channels that fall on different lanes of two.</summary>
    public static (string A, string B) TwoChannelsOfTwoLanes()
    {
        var channels = Enumerable.Range(1, 20).Select(i => $"private-Card.{i}").ToList();
        var a = channels[0];
        return (a, channels.First(c => ChannelLanes.Of(c, 2) != ChannelLanes.Of(a, 2)));
    }

    /// <summary>A row whose notifications carry <c>{"item": …}</c> as data, on the given channels.</summary>
    public static OutboxMessage Row(long id, params (string Channel, string Item)[] events) => new()
    {
        Id = id,
        Count = events.Length,
        Payload = "[" + string.Join(',', events.Select(e => $$$"""{"channel":"{{{e.Channel}}}","event":"changed","data":{"item":"{{{e.Item}}}"}}""")) + "]",
        CreatedAt = DateTime.UtcNow,
        NextAttemptAt = DateTime.UtcNow,
    };
}

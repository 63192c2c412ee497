using System.Collections.Concurrent;
using System.Text.Json;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using static EfNotify.Tests.Dispatch.LaneFixtures;

namespace EfNotify.Tests.Dispatch;

/// <summary>
/// Issue 13: a claim published on several lanes at once. A transport that fails one request transiently stands in for
/// the server, which cannot be made to fail one request of several in flight on cue.
/// </summary>
public sealed class ClaimPublicationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_transient_failure_on_one_lane_holds_back_its_channels_later_events_while_the_other_lane_finishes_the_rows_before_it()
    {
        var (a, b) = TwoChannelsOfTwoLanes();
        // Rows 0..5, one event each, channels a b a b a b; the request of row 2 (channel a) fails transiently.
        var rows = Rows(a, b, a, b, a, b);
        var transport = new GatedTransport(fail: "2", waits: new() { ["1"] = "2" }); // row 1's request is in flight when row 2's fails
        var publication = Publication(transport, lanes: 2);

        var outcome = await publication.PublishAsync(rows, full: false, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal((2, "503: The server is busy"), outcome.Stopped);
        Assert.Equal(["0", "1"], transport.Published); // row 4 (channel a) did not overtake row 2; row 3 waits too
        var plan = OutcomePlan.From(rows, outcome, DateTime.UtcNow, maxAttempts: 50, new RetrySchedule(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)));
        Assert.Equal([1L, 2L], plan.Delivered);
        Assert.Equal(3L, plan.Retry!.Id);
        Assert.Equal([4L, 5L, 6L], plan.Released);
    }

    [Fact]
    public async Task A_row_with_events_on_two_lanes_is_delivered_only_when_both_are_and_is_retried_when_one_fails()
    {
        var (a, b) = TwoChannelsOfTwoLanes();
        var rows = new List<OutboxMessage> { Row(1, (a, "0a"), (b, "0b")), Row(2, (a, "1a"), (b, "1b")) };
        var transport = new GatedTransport(fail: "1b", waits: new() { ["1b"] = "1a" });
        var publication = Publication(transport, lanes: 2);

        var outcome = await publication.PublishAsync(rows, full: false, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(1, outcome.Stopped?.Row);
        Assert.Equal(["0a", "0b", "1a"], transport.Published.Order());
        Assert.Equal([0, 1], outcome.States.Select(s => s.Pending)); // row 2's event on the other lane is out; one is not
        var plan = OutcomePlan.From(rows, outcome, DateTime.UtcNow, maxAttempts: 50, new RetrySchedule(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)));
        Assert.Equal([1L], plan.Delivered);
        Assert.Equal(2L, plan.Retry!.Id);
    }

    private static List<OutboxMessage> Rows(params string[] channels)
        => channels.Select((channel, i) => Row(i + 1, (channel, $"{i}"))).ToList();

    /// <summary>
    /// One event per request; the request of item <c>fail</c> fails transiently. A request named in <c>waits</c> is held
    /// until the request of the item it names got its answer, so the lanes' requests overlap as on a real network.
    /// </summary>
    private sealed class GatedTransport(string fail, Dictionary<string, string> waits) : INotificationTransport
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _answered = new();
        private readonly List<string> _published = [];

        public int MaxBatchSize => 1;

        public int MaxEventDataBytes => 10_240;

        public IReadOnlyList<string> Published
        {
            get
            {
                lock (_published)
                {
                    return [.. _published];
                }
            }
        }

        public async Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
        {
            var item = JsonDocument.Parse(events[0].Data).RootElement.GetProperty("item").GetString()!;
            if (waits.TryGetValue(item, out var other))
            {
                await Answered(other).Task.WaitAsync(Deadline, cancellationToken);
            }

            try
            {
                if (item == fail)
                {
                    throw new PublishException("The server is busy", 503, isTransient: true);
                }

                lock (_published)
                {
                    _published.Add(item);
                }
            }
            finally
            {
                Answered(item).TrySetResult();
            }
        }

        private TaskCompletionSource Answered(string item) => _answered.GetOrAdd(item, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}

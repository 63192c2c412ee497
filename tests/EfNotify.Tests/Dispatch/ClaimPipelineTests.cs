using System.Collections.Concurrent;
using System.Text.Json;
using EfNotify.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using static EfNotify.Tests.Dispatch.LaneFixtures;

namespace EfNotify.Tests.Dispatch;

/// <summary>
/// Issue 13 item 3: the next claim starts on the lanes while the claim before it is still on the wire. A transport
/// that holds chosen requests until the test lets them answer stands in for the server, which cannot be made to keep
/// one request of several waiting on cue.
/// </summary>
public sealed class ClaimPipelineTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_later_claim_goes_on_while_an_earlier_one_waits_and_keeps_each_channels_order()
    {
        var (a, b) = TwoChannelsOfTwoLanes();
        var first = Rows(1, (a, "0"), (a, "1"), (b, "2"));
        var second = Rows(4, (a, "3"), (b, "4"));
        var transport = new HeldTransport(hold: ["0"]);
        var publication = Publication(transport);

        var firstOutcome = publication.PublishAsync(first, full: true, CancellationToken.None);
        var secondOutcome = publication.PublishAsync(second, full: true, CancellationToken.None);

        await transport.Answered("4").WaitAsync(Deadline); // the second claim's other lane went while the first claim waits
        Assert.DoesNotContain("3", transport.Begun); // channel a: the second claim's event waits for the first claim's
        transport.Release("0");
        var outcomes = await Task.WhenAll(firstOutcome, secondOutcome).WaitAsync(Deadline);

        Assert.All(outcomes, o => Assert.True(o.Complete));
        Assert.Equal(["0", "1", "3"], transport.Published.Where(i => i is "0" or "1" or "3"));
        Assert.Equal(["2", "4"], transport.Published.Where(i => i is "2" or "4"));
    }

    [Fact]
    public async Task A_transient_failure_in_one_claim_halts_the_claim_started_after_it_so_nothing_overtakes_the_retry()
    {
        var (a, b) = TwoChannelsOfTwoLanes();
        var first = Rows(1, (a, "0"), (b, "1"), (a, "2"));
        var second = Rows(4, (a, "3"), (b, "4"), (b, "5"));
        var transport = new HeldTransport(hold: ["0", "4"], fail: "0");
        var publication = Publication(transport);

        var firstOutcome = publication.PublishAsync(first, full: true, CancellationToken.None);
        var secondOutcome = publication.PublishAsync(second, full: true, CancellationToken.None);
        await transport.BegunTask("4").WaitAsync(Deadline); // the second claim is on the wire while row 1 waits
        transport.Release("0"); // fails transiently
        var failed = await firstOutcome.WaitAsync(Deadline);
        transport.Release("4");
        var halted = await secondOutcome.WaitAsync(Deadline);

        Assert.Equal(0, failed.Stopped?.Row);
        Assert.Equal(["1", "4"], transport.Published.Order()); // neither row 3 (channel a) nor row 5 began after the failure
        var schedule = new RetrySchedule(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        var firstPlan = OutcomePlan.From(first, failed, DateTime.UtcNow, maxAttempts: 50, schedule);
        Assert.Equal(1L, firstPlan.Retry!.Id);
        Assert.Equal([2L], firstPlan.Delivered);
        Assert.Equal([3L], firstPlan.Released);
        var secondPlan = OutcomePlan.From(second, halted, DateTime.UtcNow, maxAttempts: 50, schedule);
        Assert.Null(secondPlan.Retry);
        Assert.Equal([5L], secondPlan.Delivered);
        Assert.Equal([4L, 6L], secondPlan.Released); // claimed again after the retry, in order

        // Both outcomes recorded: the claim read next (from the row that waits) is not held back by the failure.
        var next = await publication.PublishAsync(Rows(1, (b, "6"), (a, "0")), full: true, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(1, next.Stopped?.Row); // item 0 fails again in this transport; the row before it goes
        Assert.Contains("6", transport.Published);
    }

    [Fact]
    public async Task A_stop_while_the_next_claim_is_under_way_finishes_every_row_begun_and_leaves_the_rest_untouched()
    {
        var (a, b) = TwoChannelsOfTwoLanes();
        // Rows of notifications on both lanes: a row whose first notification is out must be finished. Row 2 has not
        // begun when the host stops, but a row of the claim after it has: row 2 must go first.
        var first = new List<OutboxMessage> { Row(1, (a, "0a"), (b, "0b")), Row(2, (a, "1a")) };
        var second = new List<OutboxMessage> { Row(3, (a, "2a"), (b, "2b")), Row(4, (a, "3a"), (b, "3b")) };
        var transport = new HeldTransport(hold: ["0a", "2b"]);
        var publication = Publication(transport);
        using var stopping = new CancellationTokenSource();

        var firstOutcome = publication.PublishAsync(first, full: true, stopping.Token);
        var secondOutcome = publication.PublishAsync(second, full: true, stopping.Token);
        await transport.BegunTask("2b").WaitAsync(Deadline); // the first claim's lane a still holds row 1
        await stopping.CancelAsync();
        transport.Release("0a");
        transport.Release("2b");
        var outcomes = await Task.WhenAll(firstOutcome, secondOutcome).WaitAsync(Deadline);

        Assert.True(outcomes[0].Complete, "the first claim is finished: the second one had begun");
        Assert.Equal(["0a", "0b", "1a", "2a", "2b"], transport.Published.Order());
        Assert.Equal([0, 2], outcomes[1].States.Select(s => s.Pending)); // row 4 untouched: released, not half published
    }

    [Fact]
    public async Task A_stop_that_comes_as_a_request_is_about_to_go_still_sends_it_so_no_row_is_left_half_published()
    {
        var (a, b) = TwoChannelsOfTwoLanes();
        // Row 1 has a notification on each lane. Lane a begins it, and the host stops before lane a's request is sent;
        // lane b then sends row 1's other notification, since row 1 has begun. Lane a's request must go too, else row
        // 1 is half published, retried, and its notification on b arrives twice.
        var rows = new List<OutboxMessage> { Row(1, (a, "0a"), (b, "0b")), Row(2, (a, "1a"), (b, "1b")) };
        var transport = new HeldTransport(hold: []);
        using var stopping = new CancellationTokenSource();
        var options = new EfNotifyOptions { MaxRetryAttempts = 3 };
        var builder = new ResiliencePipelineBuilder().AddStrategy(_ => new StopBeforeFirstRequest(stopping, transport.Answered("0b")), new StopOptions());
        DispatchPipelines.ConfigurePublish(builder, options, TimeProvider.System, Instrumentation(), NullLogger.Instance);
        var publication = LaneFixtures.Publication(transport, lanes: 2, builder.Build());

        var outcome = await publication.PublishAsync(rows, full: true, stopping.Token).WaitAsync(Deadline);

        Assert.Equal(["0a", "0b"], transport.Published.Order());
        Assert.Null(outcome.Stopped); // a stop is not a failed attempt
        var plan = OutcomePlan.From(rows, outcome, DateTime.UtcNow, maxAttempts: 50, new RetrySchedule(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)));
        Assert.Equal([1L], plan.Delivered);
        Assert.Equal([2L], plan.Released); // not begun when the host stopped: untouched
    }

    [Fact]
    public async Task A_stop_ends_the_wait_for_a_retry_of_a_request_that_failed_and_the_row_waits_for_its_next_attempt()
    {
        var (a, _) = TwoChannelsOfTwoLanes();
        var rows = new List<OutboxMessage> { Row(1, (a, "0a")) };
        var transport = new HeldTransport(hold: [], fail: "0a");
        using var stopping = new CancellationTokenSource();
        var options = new EfNotifyOptions { MaxRetryAttempts = 3, RetryBaseDelay = TimeSpan.FromMinutes(1), MaxBackoff = TimeSpan.FromMinutes(1) };
        var builder = new ResiliencePipelineBuilder();
        DispatchPipelines.ConfigurePublish(builder, options, TimeProvider.System, Instrumentation(), NullLogger.Instance);
        var publication = LaneFixtures.Publication(transport, lanes: 2, builder.Build());

        var publishing = publication.PublishAsync(rows, full: true, stopping.Token);
        await transport.Answered("0a").WaitAsync(Deadline); // the first attempt failed; the retry waits a minute
        await stopping.CancelAsync();
        var outcome = await publishing.WaitAsync(Deadline);

        Assert.Equal((0, FailureClassifier.Stopped.Reason), outcome.Stopped);
        Assert.Empty(transport.Published);
    }

    private static ClaimPublication Publication(INotificationTransport transport) => LaneFixtures.Publication(transport, lanes: 2);

    private static List<OutboxMessage> Rows(long firstId, params (string Channel, string Item)[] events)
        => events.Select((e, i) => Row(firstId + i, e)).ToList();

    /// <summary>One event per request; a request of a held item waits until released; the request of <c>fail</c> fails transiently.</summary>
    private sealed class HeldTransport(string[] hold, string? fail = null) : INotificationTransport
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _released = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _begun = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _answered = new();
        private readonly ConcurrentQueue<string> _published = new();

        public int MaxBatchSize => 1;

        public int MaxEventDataBytes => 10_240;

        public IReadOnlyList<string> Published => [.. _published];

        public IReadOnlyCollection<string> Begun => [.. _begun.Where(g => g.Value.Task.IsCompleted).Select(g => g.Key)];

        public void Release(string item) => Gate(_released, item).TrySetResult();

        public Task BegunTask(string item) => Gate(_begun, item).Task;

        public Task Answered(string item) => Gate(_answered, item).Task;

        public async Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
        {
            var item = JsonDocument.Parse(events[0].Data).RootElement.GetProperty("item").GetString()!;
            Gate(_begun, item).TrySetResult();
            try
            {
                if (hold.Contains(item))
                {
                    await Gate(_released, item).Task.WaitAsync(Deadline, cancellationToken);
                }

                if (item == fail)
                {
                    throw new PublishException("The server is busy", 503, isTransient: true);
                }

                _published.Enqueue(item);
            }
            finally
            {
                Gate(_answered, item).TrySetResult();
            }
        }

        private static TaskCompletionSource Gate(ConcurrentDictionary<string, TaskCompletionSource> gates, string item)
            => gates.GetOrAdd(item, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    private static EfNotifyInstrumentation Instrumentation() => new(new OutboxMonitor(), TimeProvider.System, null);

    /// <summary>
    /// Stops the host as the first request is handed to the retries, and holds that request until <c>after</c> is
    /// done: the moment between a lane beginning a row and its request going out, which no server can be made to hit.
    /// </summary>
    private sealed class StopBeforeFirstRequest(CancellationTokenSource stopping, Task after) : ResilienceStrategy
    {
        private int _requests;

        protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            if (Interlocked.Increment(ref _requests) == 1)
            {
                await stopping.CancelAsync();
                await after.WaitAsync(Deadline);
            }

            return await callback(context, state);
        }
    }

    private sealed class StopOptions : ResilienceStrategyOptions;
}

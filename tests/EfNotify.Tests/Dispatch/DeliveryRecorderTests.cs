using EfNotify.Dispatch;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.Tests.Dispatch;

/// <summary>A leader's deliveries are recorded apart from publishing, and excluded from claims until they are.</summary>
public class DeliveryRecorderTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly RetrySchedule Immediate = new(TimeSpan.Zero, TimeSpan.Zero);

    [Fact]
    public async Task Accepted_rows_stay_excluded_until_their_write_has_committed()
    {
        var write = new TaskCompletionSource();
        var written = new List<List<long>>();
        var recorder = new DeliveryRecorder(
            new Writes(async (ids, _) =>
            {
                await write.Task;
                lock (written)
                {
                    written.Add([.. ids]);
                }
            }),
            Immediate, TimeProvider.System, NullLogger.Instance);

        recorder.Accept([1, 2]);
        Assert.Equal([1L, 2L], recorder.Unrecorded().Order());

        write.SetResult();
        await recorder.CompleteAsync().WaitAsync(Deadline);

        Assert.Equal([1L, 2L], written.SelectMany(w => w).Order());
        Assert.Empty(recorder.Unrecorded());
    }

    [Fact]
    public async Task Rows_accepted_while_a_write_runs_are_recorded_together_in_the_next_one()
    {
        var first = new TaskCompletionSource();
        var written = new List<List<long>>();
        var recorder = new DeliveryRecorder(
            new Writes(async (ids, _) =>
            {
                lock (written)
                {
                    written.Add([.. ids]);
                }

                if (written.Count == 1)
                {
                    await first.Task;
                }
            }),
            Immediate, TimeProvider.System, NullLogger.Instance);

        recorder.Accept([1]);
        await WaitUntilAsync(() => written.Count == 1);
        recorder.Accept([2]);
        recorder.Accept([3, 4]);
        first.SetResult();
        await recorder.CompleteAsync().WaitAsync(Deadline);

        Assert.Equal([[1L], [2L, 3L, 4L]], written);
    }

    [Fact]
    public async Task A_failed_write_is_retried_after_its_backoff_and_the_rows_stay_excluded_meanwhile()
    {
        var time = new FakeTimeProvider();
        var attempts = 0;
        var recorder = new DeliveryRecorder(
            new Writes((_, _) => Interlocked.Increment(ref attempts) == 1 ? Task.FromException(new InvalidOperationException("database is locked")) : Task.CompletedTask),
            new RetrySchedule(TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(1)), time, NullLogger.Instance); // 1 s after the first failure

        recorder.Accept([7]);
        await WaitUntilAsync(() => Volatile.Read(ref attempts) == 1);
        Assert.Equal([7L], recorder.Unrecorded());

        time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => Volatile.Read(ref attempts) == 2);
        await recorder.CompleteAsync().WaitAsync(Deadline);

        Assert.Empty(recorder.Unrecorded());
    }

    [Fact]
    public async Task When_stopping_a_write_that_keeps_failing_is_given_up_after_three_attempts()
    {
        var time = new FakeTimeProvider();
        var attempts = 0;
        var recorder = new DeliveryRecorder(
            new Writes((_, _) =>
            {
                Interlocked.Increment(ref attempts);
                return Task.FromException(new InvalidOperationException("the database is gone"));
            }),
            new RetrySchedule(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), time, NullLogger.Instance);
        recorder.Accept([1]);
        await WaitUntilAsync(() => Volatile.Read(ref attempts) == 1);

        var completed = recorder.CompleteAsync();
        await WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return completed.IsCompleted;
        });

        Assert.Equal(3, attempts);
        Assert.Throws<InvalidOperationException>(() => recorder.Accept([2])); // nothing may be handed over after the stop
    }

    [Fact]
    public async Task What_the_writes_hold_is_let_go_once_everything_handed_over_is_written_and_not_before()
    {
        var write = new TaskCompletionSource();
        var writes = 0;
        var released = 0;
        var recorder = new DeliveryRecorder(
            new Writes(async (_, _) =>
            {
                await write.Task;
                Interlocked.Increment(ref writes);
            },
            () =>
            {
                Assert.Equal(1, Volatile.Read(ref writes)); // only after the write it was asked behind
                Interlocked.Increment(ref released);
                return ValueTask.CompletedTask;
            }),
            Immediate, TimeProvider.System, NullLogger.Instance);

        recorder.Accept([1, 2]);
        recorder.ReleaseWhenIdle();
        Assert.Equal(0, Volatile.Read(ref released));
        write.SetResult();
        await WaitUntilAsync(() => Volatile.Read(ref released) == 1);

        recorder.Accept([3]); // busy again: written without a release nobody asked for
        await recorder.CompleteAsync().WaitAsync(Deadline);
        Assert.Equal(2, writes);
        Assert.Equal(1, released);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Delay(5, deadline.Token);
        }
    }

    /// <summary>The delivery record's writes as the test gives them.</summary>
    private sealed class Writes(Func<IReadOnlyCollection<long>, CancellationToken, Task> mark, Func<ValueTask>? release = null) : IDeliveryWrites
    {
        public Task MarkDeliveredAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => mark(ids, cancellationToken);

        public ValueTask ReleaseAsync() => release?.Invoke() ?? ValueTask.CompletedTask;
    }
}

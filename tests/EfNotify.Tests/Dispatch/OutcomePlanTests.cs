using EfNotify.Dispatch;
using EfNotify.Outbox;

namespace EfNotify.Tests.Dispatch;

/// <summary>What the outcome of a claim means for each row: delivered, released untouched, retried later or dead-lettered.</summary>
public class OutcomePlanTests
{
    private static readonly DateTime Now = new(2026, 12, 1, 18, 0, 0, DateTimeKind.Utc);
    private static readonly RetrySchedule Schedule = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(1));

    /// <param name="states">Per row: <c>d</c> delivered, <c>r</c> refused whole, <c>dr</c> partly refused, <c>h</c> held, <c>-</c> not finished.</param>
    [Theory]
    [InlineData("d d d d", null, "1 2 3 4", "", "", "")]
    [InlineData("d - - -", null, "1", "2 3 4", "", "")] // a pause or a stop: the rest is released, no attempt counted
    [InlineData("d - - -", 1, "1", "3 4", "2", "")] // a transient failure on row 2: it retries, the unfinished rows after it wait
    [InlineData("- - - -", 0, "", "2 3 4", "1", "")]
    [InlineData("d r dr d", null, "1 4", "", "", "2:whole 3:part")]
    [InlineData("r d - -", 2, "2", "4", "3", "1:whole")]
    [InlineData("d - d d", 1, "1 3 4", "", "2", "")] // issue 13: rows finished on other lanes are recorded
    [InlineData("d h d d", null, "1 3 4", "", "", "")] // issue 15: a row with a held event stays pending, unrecorded, until it goes out
    public void Each_row_is_delivered_released_retried_or_dead_lettered_by_its_own_state(
        string states, int? stoppedRow, string delivered, string released, string retried, string deadLettered)
    {
        var rows = Rows(4, attempts: 0);
        var outcome = Outcome(states, stoppedRow);

        var plan = OutcomePlan.From(rows, outcome, Now, maxAttempts: 50, Schedule);

        Assert.Equal(Ids(delivered), plan.Delivered);
        Assert.Equal(Ids(released), plan.Released);
        Assert.Equal(Ids(retried), plan.Retry is { } retry ? [retry.Id] : []);
        Assert.Equal(
            deadLettered.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            plan.DeadLetters.Select(d => $"{d.Row.Id}:{(d.WholeRow ? "whole" : "part")}"));
    }

    [Theory]
    [InlineData(0, 50, 1, false)]
    [InlineData(4, 50, 5, false)]
    [InlineData(49, 50, 50, true)] // out of attempts: dead-lettered with the reason
    [InlineData(0, 1, 1, true)]
    public void A_row_that_failed_transiently_waits_the_schedules_delay_until_it_is_out_of_attempts(int attempts, int maxAttempts, int expectedAttempts, bool deadLetter)
    {
        var rows = Rows(1, attempts);

        var plan = OutcomePlan.From(rows, Outcome("-", 0), Now, maxAttempts, Schedule);

        var retry = Assert.IsType<RowRetry>(plan.Retry);
        Assert.Equal(expectedAttempts, retry.Attempts);
        Assert.Equal(Now + Schedule.Delay(expectedAttempts), retry.NextAttemptAt);
        Assert.Equal(deadLetter, retry.DeadLetter);
        Assert.Equal("503: unavailable", retry.Reason);
    }

    [Fact]
    public void Rows_judged_on_their_own_state_need_not_complete_in_id_order()
    {
        // Issue 13 shape: the requests of rows 1 and 3 completed, row 2's is the one that failed transiently. Row 3 was
        // finished on another lane: a lane stops at its first transient failure, so row 3 has no event on row 2's
        // channels and overtakes nothing by being recorded.
        var rows = Rows(3, attempts: 0);

        var plan = OutcomePlan.From(rows, Outcome("d - d", 1), Now, 50, Schedule);

        Assert.Equal([1L, 3L], plan.Delivered);
        Assert.Empty(plan.Released);
        Assert.Equal(2L, plan.Retry!.Id);
    }

    private static List<OutboxMessage> Rows(int count, int attempts)
        => Enumerable.Range(1, count).Select(i => new OutboxMessage { Id = i, Payload = "[]", Count = 1, Attempts = attempts, CreatedAt = Now, NextAttemptAt = Now }).ToList();

    private static ClaimOutcome Outcome(string states, int? stoppedRow)
    {
        var rowStates = states.Split(' ').Select(s =>
        {
            var state = new RowState { Pending = s == "-" ? 1 : 0, Delivered = s.Contains('d', StringComparison.Ordinal) ? 1 : 0, Held = s.Contains('h', StringComparison.Ordinal) };
            if (s.Contains('r', StringComparison.Ordinal))
            {
                state.Refused.Add(("[]", "400: refused"));
            }

            return state;
        }).ToList();
        return new ClaimOutcome(rowStates, stoppedRow is { } row ? (row, "503: unavailable") : null);
    }

    private static List<long> Ids(string ids) => ids.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
}

using System.Text.Json;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.Tests.Dispatch;

/// <summary>
/// Issue 15 item 2: hot objects do not flood. Rows are written as the capture writes them (the window travels in the
/// payload) and planned as the dispatcher plans them; the clock is a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class CoalescingStageTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 20, 0, 0, TimeSpan.Zero));
    private readonly CoalescingStage _stage;

    public CoalescingStageTests() => _stage = new CoalescingStage(_time);

    [Fact]
    public void The_first_change_of_a_quiet_channel_goes_out_at_once_and_those_within_the_window_become_the_latest_with_merged()
    {
        var first = Admit(Claim(Change(1, 1)));
        _time.Advance(TimeSpan.FromMilliseconds(50));
        var held = Admit(Claim(Change(2, 2), Change(3, 3), Change(4, 4)));

        Assert.Equal([1], first.Select(Reading));
        Assert.False(Data(first[0]).TryGetProperty("window", out _)); // the dispatcher's, not the browser's
        Assert.False(Data(first[0]).TryGetProperty("merged", out _)); // a change that stands for itself alone
        Assert.Empty(held);
        Assert.Equal([4L], _stage.HeldRows); // rows 2 and 3 are superseded by row 4 within the same claim
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMilliseconds(200), _stage.NextDue());

        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.Empty(_stage.TakeDue().Events);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var due = _stage.TakeDue();

        var sent = Assert.Single(due.Events);
        Assert.Equal((4, 3, 4L, 0), (Reading(sent), Merged(sent), due.Rows[sent.Row].Id, sent.Row));
        Assert.Empty(_stage.HeldRows);
        Assert.Null(_stage.NextDue());
    }

    [Fact]
    public void A_change_right_after_a_window_ended_waits_a_whole_window_after_the_event_that_ended_it()
    {
        Admit(Claim(Change(1, 1)));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Admit(Claim(Change(2, 2)));
        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.Single(_stage.TakeDue().Events);
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Empty(Admit(Claim(Change(3, 3))));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMilliseconds(240), _stage.NextDue());
    }

    [Fact]
    public void Other_channels_actions_and_notifications_without_a_window_are_not_held()
    {
        Admit(Claim(Change(1, 1)));

        var sent = Admit(Claim(
            Change(2, 2, channel: "private-Gauge.2"), Change(3, 3, action: "moved"), Change(4, 4, window: 0, channel: "private-Gauge.3")));

        Assert.Equal([2, 3, 4], sent.Select(Reading));
        Assert.Empty(_stage.HeldRows);
    }

    [Fact]
    public void A_change_without_a_window_to_a_held_channel_goes_out_at_once_standing_for_the_held_one_too()
    {
        Admit(Claim(Change(1, 1)));
        Admit(Claim(Change(2, 2)));

        var sent = Assert.Single(Admit(Claim(Change(3, 3, window: 0))));

        Assert.Equal((3, 2), (Reading(sent), Merged(sent)));
        Assert.Empty(_stage.HeldRows);
        Assert.Null(_stage.NextDue());
    }

    [Fact]
    public void A_held_row_of_an_earlier_claim_superseded_by_a_later_one_is_handed_back_to_be_recorded_as_delivered()
    {
        var claim1 = Claim(Change(1, 1), Change(2, 2));
        Admit(claim1);
        _stage.Settle(claim1.Rows, Complete(claim1, held: 1));
        Assert.Empty(_stage.TakeSuperseded());

        var claim2 = Claim(Change(3, 3));
        Admit(claim2);

        var superseded = Assert.Single(_stage.TakeSuperseded());
        Assert.Equal(2L, superseded.Row.Id);
        Assert.Equal([3L], _stage.HeldRows);
        _time.Advance(Window);
        Assert.Equal(2, Merged(Assert.Single(_stage.TakeDue().Events)));
    }

    [Fact]
    public void The_holds_of_rows_left_for_later_are_dropped_so_the_rows_are_claimed_again()
    {
        var claim = Claim(Change(1, 1), Change(2, 2));
        Admit(claim);

        _stage.Settle(claim.Rows, new ClaimOutcome([.. claim.Rows.Select(_ => new RowState { Pending = 1 })], Stopped: null)); // a pause

        Assert.Empty(_stage.HeldRows);
        Assert.Null(_stage.NextDue());
        Assert.Empty(_stage.TakeSuperseded());
    }

    [Fact]
    public void Changes_of_one_author_skip_that_authors_tab_and_changes_of_several_go_to_everyone()
    {
        Admit(Claim(Change(1, 1, socketId: "1.1"), Change(2, 2, channel: "private-Gauge.2", socketId: "1.1")));
        Admit(Claim(Change(3, 3, socketId: "1.1"), Change(4, 4, socketId: "1.1")));
        Admit(Claim(Change(5, 5, channel: "private-Gauge.2", socketId: "1.1"), Change(6, 6, channel: "private-Gauge.2", socketId: "2.2")));
        _time.Advance(Window);

        var due = _stage.TakeDue().Events;

        Assert.Equal([("1.1", 4), (null, 6)], due.Select(e => (e.Event.SocketId, Reading(e))));
    }

    [Fact]
    public void After_a_reset_nothing_is_held_and_every_channel_is_quiet()
    {
        Admit(Claim(Change(1, 1)));
        Admit(Claim(Change(2, 2)));

        _stage.Reset();

        Assert.Empty(_stage.HeldRows);
        Assert.Equal([3], Admit(Claim(Change(3, 3))).Select(Reading));
    }

    private List<PlannedEvent> Admit((List<OutboxMessage> Rows, List<PlannedEvent> Events) claim) => _stage.Admit(claim.Rows, claim.Events);

    private static (List<OutboxMessage> Rows, List<PlannedEvent> Events) Claim(params (long Id, string Payload)[] rows)
    {
        var messages = rows.Select(r => new OutboxMessage { Id = r.Id, Payload = r.Payload, Count = 1 }).ToList();
        var events = messages.SelectMany((m, i) => PublishPlanner.PlanRow(i, m.Payload, 10_000).Events).ToList();
        return (messages, events);
    }

    private static ClaimOutcome Complete((List<OutboxMessage> Rows, List<PlannedEvent> Events) claim, int held)
        => new([.. claim.Rows.Select((_, r) => new RowState { Delivered = r == held ? 0 : 1, Held = r == held })], null);

    /// <summary>A row as the capture writes it for one change of a gauge, its reading in the message's values.</summary>
    private (long, string) Change(long id, int reading, int window = 250, string channel = "private-Gauge.1", string action = "changed", string? socketId = null)
    {
        var notification = new PendingNotification
        {
            Channel = channel, Action = action, EntityName = "Gauge", Key = [1], Change = ChangeKind.Modified, At = _time.GetUtcNow(),
            SocketId = socketId, Values = [new("Reading", reading)], CoalesceMilliseconds = window,
        };
        return (id, OutboxPayload.Write([notification], 0, 1, _time));
    }

    private static int Reading(PlannedEvent planned) => Data(planned).GetProperty("values").GetProperty("Reading").GetInt32();

    private static int Merged(PlannedEvent planned) => Data(planned).TryGetProperty("merged", out var merged) ? merged.GetInt32() : 1;

    private static JsonElement Data(PlannedEvent planned) => JsonDocument.Parse(planned.Event.Data).RootElement;
}

using System.Globalization;
using System.Text.Json;
using EfNotify.Dispatch;

namespace EfNotify.Tests.Dispatch;

/// <summary>Publish planning without a server: the size guard, the batches, and what a failed request means for its batch.</summary>
public class PublishPlannerTests
{
    [Theory]
    [InlineData("0 0 1 1 1 2", 0, 10, 9, 6)] // everything fits one request
    [InlineData("0 0 1 1 1 2", 0, 4, 9, 4)] // the transport's batch size cuts across rows
    [InlineData("0 0 1 1 1 2", 4, 4, 9, 6)] // the last batch is what is left
    [InlineData("0 0 1 1 1 2", 2, 10, 2, 5)] // stopping, or a row postponed: only the rows before the limit
    [InlineData("0 0 1 1 1 2", 2, 2, 2, 4)] // ... and never past the batch size
    [InlineData("0 0 1 1 1 2", 2, 10, 1, 2)] // the first event's row is not to be begun: nothing
    [InlineData("0 0 1 1 1 2", 0, 10, 0, 0)] // a pause: nothing
    [InlineData("3", 0, 0, 9, 1)] // a batch size below one still sends one event
    public void A_batch_holds_at_most_the_transports_batch_size_and_only_rows_before_the_limit(
        string rows, int start, int batchSize, int rowLimit, int expectedEnd)
    {
        var events = rows.Split(' ').Select((row, i) => new PlannedEvent(int.Parse(row, CultureInfo.InvariantCulture), i, new OutgoingEvent("c", "e", "{}"))).ToList();

        Assert.Equal(expectedEnd, PublishPlanner.BatchEnd(events, start, batchSize, rowLimit));
    }

    [Theory]
    [InlineData(null, 5, "Published")]
    [InlineData("Transient", 5, "Postpone")]
    [InlineData("Transient", 1, "Postpone")]
    [InlineData("Pause", 5, "Pause")] // issue 17: a refusal of the application dead-letters nothing
    [InlineData("Pause", 1, "Pause")]
    [InlineData("Refused", 5, "Split")] // find the refused events one by one, the others still go
    [InlineData("Refused", 1, "DeadLetter")]
    public void A_failed_request_postpones_pauses_splits_or_dead_letters_by_its_kind_and_batch_size(string? kind, int count, string expected)
    {
        var failure = kind is null ? null : new PublishFailure(Enum.Parse<FailureKind>(kind), "reason");

        Assert.Equal(Enum.Parse<BatchAction>(expected), PublishPlanner.OnOutcome(failure, count));
    }

    [Theory]
    [InlineData(10, 1000, "as written")]
    [InlineData(2000, 1000, "minimal")] // the values make it too big; without them it fits
    [InlineData(10, 40, "refused")] // even the minimal form is over the limit
    public void Data_over_the_transports_limit_is_sent_in_its_minimal_form_or_refused_when_that_is_still_too_big(int titleLength, int maxBytes, string expected)
    {
        var title = new string('x', titleLength);
        var data = $$$"""{"id":"0193","entity":"Card","key":7,"action":"changed","change":"modified","at":"2026-12-01T18:00:00Z","values":{"Title":"{{{title}}}"}}""";
        var payload = $$"""[{"channel":"private-Card.7","event":"changed","data":{{data}}}]""";

        var plan = PublishPlanner.PlanRow(3, payload, maxBytes);

        switch (expected)
        {
            case "as written":
                Assert.Equal(data, Assert.Single(plan.Events).Event.Data);
                Assert.Empty(plan.Shrunk);
                break;
            case "minimal":
                var sent = Assert.Single(plan.Events);
                Assert.Equal("""{"id":"0193","entity":"Card","key":7,"action":"changed","change":"modified","at":"2026-12-01T18:00:00Z","truncated":true}""", sent.Event.Data);
                Assert.Equal((0, data.Length), Assert.Single(plan.Shrunk));
                break;
            default:
                Assert.Empty(plan.Events);
                var (item, reason) = Assert.Single(plan.Refused);
                Assert.Equal(payload, item); // the dead letter keeps the notification as written
                Assert.Contains("even in its minimal form", reason, StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public void The_events_of_a_row_keep_their_row_index_and_order()
    {
        const string payload = """[{"channel":"a","event":"x","data":{"id":"1"}},{"channel":"b","event":"y","data":{"id":"2"},"socketId":"1.2"}]""";

        var plan = PublishPlanner.PlanRow(4, payload, 1000);

        Assert.Equal([(4, 0, "a"), (4, 1, "b")], plan.Events.Select(e => (e.Row, e.Index, e.Event.Channel)));
        Assert.Equal("1.2", plan.Events[1].Event.SocketId);
        Assert.All(plan.Events, e => Assert.True(e.Unnumbered)); // the first format is published exactly as written
    }

    [Fact]
    public void A_payload_that_cannot_be_read_is_refused_as_a_whole_with_the_reason()
    {
        var plan = PublishPlanner.PlanRow(0, """{"v":99}""", 1000);

        Assert.Empty(plan.Events);
        var (item, reason) = Assert.Single(plan.Refused);
        Assert.Equal("""{"v":99}""", item);
        Assert.StartsWith("the payload cannot be read", reason, StringComparison.Ordinal);
    }
}

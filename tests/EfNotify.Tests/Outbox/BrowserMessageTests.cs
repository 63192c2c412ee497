using System.Text.Json;
using System.Text.Json.Nodes;
using EfNotify.Capture;
using EfNotify.Outbox;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.Tests.Outbox;

/// <summary>
/// Issue 11: the minimal message (sent when the whole one is over the transport's limit) is the whole message without
/// notifier, source and values, marked truncated, made from the row rather than by parsing the message just built.
/// </summary>
public sealed class BrowserMessageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static readonly string[] Dropped = ["by", "source", "values"];

    [Fact]
    public void The_minimal_message_keeps_what_a_client_needs_to_refetch_and_says_it_is_truncated()
    {
        List<PendingNotification> notifications =
        [
            new() { Channel = ChannelNames.ForObject("Order", 42), Action = "statusChanged", EntityName = "Order", Key = [42], Change = ChangeKind.Modified, At = Now, By = "alice", SocketId = "1.2", Values = [new("Status", new string('x', 500))] },
            new() { Channel = ChannelNames.ForObject("Room", 7, "b"), Action = "newMessage", EntityName = "Room", Key = [7, "b"], Change = ChangeKind.Added, At = Now.AddSeconds(1), SourceEntityName = "Message", SourceKey = [9] },
            new() { Channel = ChannelNames.ForList("Order"), Action = "removed", EntityName = "Order", Key = [], Change = ChangeKind.Deleted, At = Now, Count = 12 },
        ];
        var payload = Assert.Single(NotificationSerializer.Serialize(notifications, new FakeTimeProvider(Now))).Payload;

        var whole = OutboxPayload.Read(payload);
        for (var i = 0; i < whole.Count; i++)
        {
            Assert.Equal(Expected(whole[i].Data), OutboxPayload.Minimal(payload, i));
        }

        Assert.Contains("\"count\":12", OutboxPayload.Minimal(payload, 2), StringComparison.Ordinal);
        Assert.DoesNotContain("xxx", OutboxPayload.Minimal(payload, 0), StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_of_the_first_format_gives_the_same_minimal_message()
    {
        const string payload = """[{"channel":"private-Order.42","event":"changed","socketId":null,"data":{"id":"0193f5d2-0000-7000-8000-000000000000","entity":"Order","key":42,"action":"changed","change":"modified","at":"2026-11-28T12:00:00Z","by":"bob","values":{"Status":"new"}}}]""";

        Assert.Equal(
            """{"id":"0193f5d2-0000-7000-8000-000000000000","entity":"Order","key":42,"action":"changed","change":"modified","at":"2026-11-28T12:00:00Z","truncated":true}""",
            OutboxPayload.Minimal(payload, 0));
    }

    private static string Expected(string data)
    {
        var message = JsonNode.Parse(data)!.AsObject();
        foreach (var name in Dropped)
        {
            message.Remove(name);
        }

        message["truncated"] = true;
        return message.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default });
    }
}

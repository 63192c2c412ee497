using System.Text;
using System.Text.Json;
using EfNotify.Capture;
using EfNotify.Outbox;
using EfNotify.Tests.TestModel;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace EfNotify.Tests.Outbox;

/// <summary>
/// The stored row is compact, yet browsers receive exactly the message they did when every row held whole messages,
/// and rows of that first format are still published.
/// </summary>
public sealed class OutboxPayloadTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);

    [Theory]
    [InlineData("list", """{"id":"{id}","entity":"Order","action":"created","change":"added","at":"2026-11-28T12:00:00Z"}""", null)] // issue 15: no "key": null
    [InlineData("bigkeys", """{"id":"{id}","entity":"Ledger","key":["9223372036854775807",9007199254740991,"18446744073709551615","-9007199254740992"],"action":"changed","change":"added","at":"2026-11-28T12:00:00Z"}""", null)]
    [InlineData("composite", """{"id":"{id}","entity":"OrderLine","key":[7,3],"action":"changed","change":"deleted","at":"2026-11-28T12:00:00Z"}""", null)]
    [InlineData("guid", """{"id":"{id}","entity":"Tag","key":"0f8fad5b-d9cb-469f-a165-70867728950e","action":"changed","change":"modified","at":"2026-11-28T12:00:00Z"}""", null)]
    [InlineData("string", """{"id":"{id}","entity":"Document","key":"\u00FCn\u00EF \u0022q\u0022 \u003Cb\u003E","action":"changed","change":"added","at":"2026-11-28T12:00:00Z"}""", null)]
    [InlineData("via", """{"id":"{id}","entity":"Room","key":7,"action":"newMessage","change":"added","at":"2026-11-28T12:00:00Z","source":{"entity":"Message","key":1001}}""", null)]
    [InlineData("values", """{"id":"{id}","entity":"Order","key":42,"action":"statusChanged","change":"modified","at":"2026-11-28T12:00:00.1234567Z","values":{"Status":"shipped","Total":12.5,"Due":null}}""", null)]
    [InlineData("notifier", """{"id":"{id}","entity":"Order","key":42,"action":"refresh","change":"notified","at":"2026-11-28T12:00:00Z","by":"alice"}""", "123.456")]
    [InlineData("everything", """{"id":"{id}","entity":"Room","key":[7,"b"],"action":"newMessage","change":"modified","at":"2026-11-28T12:00:00Z","by":"bob","source":{"entity":"Message","key":[1,2]},"values":{"Text":"hi"}}""", "1.2")]
    public void Every_field_reaches_the_message_browsers_receive(string name, string expected, string? socketId)
    {
        var notification = Case(name);

        var entry = Assert.Single(Read(Write([notification])));

        Assert.Equal(notification.Channel, entry.Event.Channel);
        Assert.Equal(notification.Action, entry.Event.Name);
        Assert.Equal(socketId, entry.Event.SocketId);
        var id = Id(entry);
        Assert.Equal(expected.Replace("{id}", id.ToString(), StringComparison.Ordinal), entry.Event.Data);
        Assert.Equal(7, id.Version);
    }

    [Fact]
    public void Notifications_that_differ_from_the_first_in_time_user_or_socket_keep_their_own()
    {
        var notifications = CaseNames.Select(Case).ToList();

        var together = Read(Write(notifications));

        Assert.Equal(notifications.Count, together.Count);
        for (var i = 0; i < notifications.Count; i++)
        {
            var alone = Assert.Single(Read(Write([Case(CaseNames[i])])));
            Assert.Equal(alone.Event with { Data = WithoutId(alone.Event.Data) }, together[i].Event with { Data = WithoutId(together[i].Event.Data) });
        }
    }

    [Fact]
    public void A_row_of_the_first_format_is_published_exactly_as_it_was_written()
    {
        // As EfNotify wrote rows before the compact format (NotificationSerializer up to b833fd4).
        const string Row = """
            [{"channel":"private-Order.42","event":"changed","socketId":"123.456","data":{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","entity":"Order","key":42,"action":"changed","change":"modified","at":"2026-11-28T12:00:00Z","by":"alice"}},{"channel":"private-Room.7","event":"newMessage","data":{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd1","entity":"Room","key":7,"action":"newMessage","change":"added","at":"2026-11-28T12:00:00.5Z","source":{"entity":"Message","key":1001},"values":{"Text":"caf\u00E9"}}}]
            """;

        var entries = Read(Row);

        Assert.Equal(
            [
                new OutgoingEvent(
                    "private-Order.42", "changed",
                    """{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","entity":"Order","key":42,"action":"changed","change":"modified","at":"2026-11-28T12:00:00Z","by":"alice"}""",
                    "123.456"),
                new OutgoingEvent(
                    "private-Room.7", "newMessage",
                    """{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd1","entity":"Room","key":7,"action":"newMessage","change":"added","at":"2026-11-28T12:00:00.5Z","source":{"entity":"Message","key":1001},"values":{"Text":"caf\u00E9"}}"""),
            ],
            entries.Select(e => e.Event));
    }

    [Fact]
    public void The_first_format_and_the_compact_one_give_the_same_events_for_every_field()
    {
        var compact = Read(Write(CaseNames.Select(Case).ToList()));

        var first = Read(FirstFormat(compact.Select(e => e.Event)));

        Assert.Equal(compact.Select(e => e.Event), first.Select(e => e.Event));
    }

    [Fact]
    public void Notification_ids_are_unique_in_a_row_the_same_on_every_read_and_UUIDv7s_of_the_capture_time()
    {
        var payload = Write(Enumerable.Range(1, NotificationSerializer.MaxPerRow).Select(Plain).ToList());

        var ids = Read(payload).Select(Id).ToList();

        Assert.Equal(NotificationSerializer.MaxPerRow, ids.Distinct().Count());
        Assert.Equal(ids, Read(payload).Select(Id));
        using var row = JsonDocument.Parse(payload);
        Assert.Equal(row.RootElement.GetProperty("id").GetGuid(), ids[0]);
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.All(ids, id => Assert.Equal(Now.ToUnixTimeMilliseconds(), UnixMilliseconds(id)));
    }

    [Fact]
    public void Rows_written_in_the_same_millisecond_give_different_ids()
    {
        var first = Read(Write(Enumerable.Range(1, 50).Select(Plain).ToList())).Select(Id);
        var second = Read(Write(Enumerable.Range(1, 50).Select(Plain).ToList())).Select(Id);

        Assert.Empty(first.Intersect(second));
    }

    [Fact]
    public void A_notification_alone_as_its_dead_letter_stores_it_keeps_its_id_time_user_and_socket()
    {
        var notifications = CaseNames.Select(Case).ToList();
        var entries = Read(Write(notifications));

        foreach (var entry in entries)
        {
            var alone = Assert.Single(Read(entry.Payload));
            Assert.Equal(entry.Event, alone.Event);
            Assert.Equal(entry.Payload, alone.Payload);
            using var row = JsonDocument.Parse(entry.Payload);
            Assert.Equal(Id(entry), row.RootElement.GetProperty("id").GetGuid());
        }
    }

    [Fact]
    public void A_notification_of_a_first_format_row_alone_keeps_the_item_as_it_was()
    {
        var entries = Read(FirstFormat(Read(Write(CaseNames.Select(Case).ToList())).Select(e => e.Event)));

        foreach (var entry in entries)
        {
            Assert.Equal(entry.Event, Assert.Single(Read(entry.Payload)).Event);
        }
    }

    [Fact]
    public void A_plain_notification_takes_under_70_bytes_and_a_row_of_100_under_40_percent_of_the_first_format()
    {
        var one = Write([Plain(17)]);
        var hundred = Write(Enumerable.Range(1, 100).Select(Plain).ToList());
        var firstFormat = FirstFormat(Read(hundred).Select(e => e.Event));

        var perNotification = (Bytes(hundred) - Bytes(one)) / 99.0;
        output.WriteLine($"one: {one}");
        output.WriteLine($"100 notifications: {Bytes(hundred)} bytes ({Bytes(hundred) / 100.0:0.0} per notification, {perNotification:0.0} per added one); "
                         + $"first format: {Bytes(firstFormat)} bytes ({Bytes(firstFormat) / 100.0:0.0} per notification)");
        Assert.True(perNotification <= 70, $"{perNotification:0.0} bytes per notification");
        Assert.True(Bytes(hundred) < 0.4 * Bytes(firstFormat), $"{Bytes(hundred)} bytes against {Bytes(firstFormat)} in the first format");
    }

    [Fact]
    public void Dead_letter_listings_name_the_channels_and_events_of_both_formats()
    {
        var compact = Write([Plain(1), Plain(2)]);
        var first = FirstFormat(Read(compact).Select(e => e.Event));

        Assert.Equal(
            [new DeadLetterEvent("private-BenchItem.1", "changed"), new DeadLetterEvent("private-BenchItem.2", "changed")],
            OutboxAdministration<ShopContext>.Summarize(compact));
        Assert.Equal(OutboxAdministration<ShopContext>.Summarize(compact), OutboxAdministration<ShopContext>.Summarize(first));
    }

    [Theory]
    [InlineData("""{"v":3,"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","at":"2026-11-28T12:00:00Z","items":[]}""")]
    [InlineData("""{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","at":"2026-11-28T12:00:00Z","items":[]}""")]
    [InlineData("""{"v":2,"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","at":"2026-11-28T12:00:00Z","items":[["private-A.1","changed","A",1]]}""")]
    [InlineData("""{"v":2,"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","at":"2026-11-28T12:00:00Z","items":[["private-A.1","changed","A",1,"x"]]}""")]
    [InlineData("""{"v":2,"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","items":[["private-A.1","changed","A",1,"m"]]}""")]
    [InlineData("""{"v":2,"id":"not a uuid","at":"2026-11-28T12:00:00Z","items":[["private-A.1","changed","A",1,"m"]]}""")]
    [InlineData("""{"v":2,"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","at":"2026-11-28T12:00:00Z","by":1,"items":[["private-A.1","changed","A",1,"m"]]}""")]
    [InlineData("""{"v":2,"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","at":"2026-11-28T12:00:00Z","items":[["private-A.1","changed","A",1,"m",{"socketId":1.2}]]}""")]
    public void A_payload_this_version_cannot_read_fails_rather_than_sending_a_different_message(string payload)
        => Assert.ThrowsAny<JsonException>(() => Read(payload));

    private static readonly string[] CaseNames = ["list", "bigkeys", "composite", "guid", "string", "via", "values", "notifier", "everything"];

    private PendingNotification Case(string name) => name switch
    {
        "list" => new()
        {
            Channel = ChannelNames.ForList("Order"), Action = "created", EntityName = "Order", Key = [], Change = ChangeKind.Added, At = Now,
        },
        "bigkeys" => new() // issue 15: integers beyond 2^53 - 1 go as strings, which a browser receives unchanged
        {
            Channel = ChannelNames.ForObject("Ledger", long.MaxValue, 9_007_199_254_740_991L, ulong.MaxValue, -9_007_199_254_740_992L), Action = "changed",
            EntityName = "Ledger", Key = [long.MaxValue, 9_007_199_254_740_991L, ulong.MaxValue, -9_007_199_254_740_992L], Change = ChangeKind.Added, At = Now,
        },
        "composite" => new()
        {
            Channel = ChannelNames.ForObject("OrderLine", 7, 3), Action = "changed", EntityName = "OrderLine", Key = [7, 3L], Change = ChangeKind.Deleted, At = Now,
        },
        "guid" => new()
        {
            Channel = ChannelNames.ForObject("Tag", Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")), Action = "changed", EntityName = "Tag",
            Key = [Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")], Change = ChangeKind.Modified, At = Now,
        },
        "string" => new()
        {
            Channel = ChannelNames.ForObject("Document", "ünï \"q\" <b>"), Action = "changed", EntityName = "Document", Key = ["ünï \"q\" <b>"],
            Change = ChangeKind.Added, At = Now,
        },
        "via" => new()
        {
            Channel = ChannelNames.ForObject("Room", 7), Action = "newMessage", EntityName = "Room", Key = [7], Change = ChangeKind.Added, At = Now,
            SourceEntityName = "Message", SourceKey = [1001L],
        },
        "values" => new()
        {
            Channel = ChannelNames.ForObject("Order", 42), Action = "statusChanged", EntityName = "Order", Key = [42], Change = ChangeKind.Modified,
            At = Now.AddTicks(1_234_567), Values = [new("Status", "shipped"), new("Total", 12.5m), new("Due", null)],
        },
        "notifier" => new()
        {
            Channel = ChannelNames.ForObject("Order", 42), Action = "refresh", EntityName = "Order", Key = [42], Change = ChangeKind.Notified, At = Now,
            By = "alice", SocketId = "123.456",
        },
        "everything" => new()
        {
            Channel = ChannelNames.ForObject("Room", 7, "b"), Action = "newMessage", EntityName = "Room", Key = [7, "b"], Change = ChangeKind.Modified, At = Now,
            By = "bob", SocketId = "1.2", SourceEntityName = "Message", SourceKey = [1, 2], Values = [new("Text", "hi")],
        },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static PendingNotification Plain(int id) => new()
    {
        Channel = ChannelNames.ForObject("BenchItem", id), Action = "changed", EntityName = "BenchItem", Key = [id], Change = ChangeKind.Modified, At = Now,
    };

    private string Write(List<PendingNotification> notifications) => Assert.Single(NotificationSerializer.Serialize(notifications, _time)).Payload;

    /// <summary>Each notification with its one-notification payload (what its dead letter stores).</summary>
    private static List<Entry> Read(string payload) => OutboxPayload.Read(payload).Select((e, i) => new Entry(e, OutboxPayload.Alone(payload, i))).ToList();

    private sealed record Entry(OutgoingEvent Event, string Payload);

    private static Guid Id(Entry entry)
    {
        using var data = JsonDocument.Parse(entry.Event.Data);
        return data.RootElement.GetProperty("id").GetGuid();
    }

    private static string WithoutId(string data)
    {
        using var document = JsonDocument.Parse(data);
        return data.Replace(document.RootElement.GetProperty("id").GetString()!, "", StringComparison.Ordinal);
    }

    private static long UnixMilliseconds(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
    }

    private static int Bytes(string payload) => Encoding.UTF8.GetByteCount(payload);

    /// <summary>The events as a row of the first format, a JSON array of whole messages, would hold them.</summary>
    private static string FirstFormat(IEnumerable<OutgoingEvent> events)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var e in events)
            {
                writer.WriteStartObject();
                writer.WriteString("channel", e.Channel);
                writer.WriteString("event", e.Name);
                if (e.SocketId is { } socketId)
                {
                    writer.WriteString("socketId", socketId);
                }

                writer.WritePropertyName("data");
                writer.WriteRawValue(e.Data);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

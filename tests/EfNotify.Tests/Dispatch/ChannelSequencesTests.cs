using System.Text.Json;
using EfNotify.Dispatch;

namespace EfNotify.Tests.Dispatch;

/// <summary>Issue 15: the numbers a browser uses to tell a missed event from a quiet channel.</summary>
public sealed class ChannelSequencesTests
{
    [Fact]
    public void Each_channel_and_action_counts_on_its_own_and_a_retried_event_keeps_its_number()
    {
        var sequences = new ChannelSequences();

        var a1 = Seq(sequences.Stamp(Event("private-Order.1", "changed"), out _));
        var b1 = Seq(sequences.Stamp(Event("private-Order.2", "changed"), out _));
        var a1Shipped = Seq(sequences.Stamp(Event("private-Order.1", "shipped"), out _));
        var failed = sequences.Stamp(Event("private-Order.1", "changed"), out var number);
        sequences.Unstamp(failed, number); // not accepted: sent again later
        var retried = Seq(sequences.Stamp(Event("private-Order.1", "changed"), out _));

        Assert.Equal((1, 1, 1, 2, 2), (a1, b1, a1Shipped, Seq(failed), retried));
    }

    [Fact]
    public void A_message_names_the_recent_events_that_skipped_their_authors_connection_by_hash_and_a_reset_starts_a_new_epoch()
    {
        var sequences = new ChannelSequences();
        var first = Data(sequences.Stamp(Event("private-Room.1", "newMessage"), out _));
        sequences.Stamp(Event("private-Room.1", "newMessage", socketId: "123.456"), out _);

        var next = Data(sequences.Stamp(Event("private-Room.1", "newMessage"), out _));
        sequences.Reset();
        var afterReset = Data(sequences.Stamp(Event("private-Room.1", "newMessage"), out _));

        var own = Assert.Single(next.GetProperty("own").EnumerateArray());
        Assert.Equal(2, own[0].GetInt64());
        Assert.Equal(ChannelSequences.SocketHash("123.456"), own[1].GetString());
        Assert.DoesNotContain("123.456", next.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(first.GetProperty("epoch").GetString(), next.GetProperty("epoch").GetString());
        Assert.NotEqual(first.GetProperty("epoch").GetString(), afterReset.GetProperty("epoch").GetString());
        Assert.Equal(1, afterReset.GetProperty("seq").GetInt64());
        Assert.Equal("42", first.GetProperty("key").GetRawText());
    }

    [Fact]
    public void The_socket_hash_is_FNV_1a_of_the_utf8_bytes()
        => Assert.Equal(("811c9dc5", "e40c292c"), (ChannelSequences.SocketHash(""), ChannelSequences.SocketHash("a")));

    private static OutgoingEvent Event(string channel, string name, string? socketId = null)
        => new(channel, name, """{"id":"x","key":42}""", socketId);

    private static JsonElement Data(OutgoingEvent e) => JsonDocument.Parse(e.Data).RootElement;

    private static long Seq(OutgoingEvent e) => Data(e).GetProperty("seq").GetInt64();
}

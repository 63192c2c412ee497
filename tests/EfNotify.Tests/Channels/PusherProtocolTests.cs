using EfNotify.Channels;

namespace EfNotify.Tests.Channels;

public class PusherProtocolTests
{
    [Theory]
    [InlineData("1234.5678", true)]
    [InlineData("12345678901234567890.1", true)]
    [InlineData("123456789012345678901.1", false)]
    [InlineData("1234", false)]
    [InlineData("1234.5678\n", false)]
    [InlineData("a.1", false)]
    [InlineData(null, false)]
    public void Socket_ids_must_be_two_runs_of_digits_joined_by_a_dot(string? socketId, bool valid)
        => Assert.Equal(valid, PusherProtocol.IsValidSocketId(socketId));

    [Theory]
    [InlineData("private-Order.42", true)]
    [InlineData("presence-Order.a=20b,7", true)]
    [InlineData("private-Order 42", false)]
    [InlineData("", false)]
    public void Channel_names_follow_pusher_grammar(string channelName, bool valid)
        => Assert.Equal(valid, PusherProtocol.IsValidChannelName(channelName));

    [Fact]
    public void A_channel_name_of_more_than_164_characters_is_refused_with_its_length()
    {
        Assert.True(PusherProtocol.IsValidChannelName(new string('a', 164)));
        Assert.False(PusherProtocol.IsValidChannelName(new string('a', 165)));
        var error = Assert.Throws<ArgumentException>(() => PusherProtocol.ValidateChannelName(new string('a', 165), "channel"));
        Assert.Contains("165", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Channel_names_use_the_protocol_prefixes()
    {
        Assert.StartsWith(PusherProtocol.PrivatePrefix, ChannelNames.ForObject("Order", 1), StringComparison.Ordinal);
        Assert.Equal(PusherProtocol.MaxChannelNameLength, ChannelNames.MaxLength);
        Assert.StartsWith(PusherProtocol.PrivatePrefix, PusherProtocol.EncryptedPrefix, StringComparison.Ordinal);
    }
}

using EfNotify.Pusher;
using Microsoft.Extensions.Options;

namespace EfNotify.Tests.Pusher;

public class PusherChannelAuthorizerTests
{
    private readonly PusherChannelAuthorizer _authorizer = new(Options.Create(PusherTestOptions.Create()));

    [Fact]
    public void AuthorizePrivateChannel_matches_the_documented_vector() =>
        Assert.Equal(
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",
            _authorizer.AuthorizePrivateChannel("1234.1234", "private-foobar"));

    [Fact]
    public void AuthorizePresenceChannel_matches_the_documented_vector() =>
        Assert.Equal(
            "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80",
            _authorizer.AuthorizePresenceChannel("1234.1234", "presence-foobar", """{"user_id":10,"user_info":{"name":"Mr. Channels"}}"""));

    [Fact]
    public void AuthenticateUser_matches_the_documented_vector() =>
        Assert.Equal(
            "278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba",
            _authorizer.AuthenticateUser("1234.1234", """{"id":"12345"}"""));

    [Theory]
    [InlineData("")]
    [InlineData("1234")]
    [InlineData("1234.")]
    [InlineData("abc.123")]
    [InlineData("1234.1234\n")]
    [InlineData("١٢.٣٤")] // Arabic-Indic digits are digits to \d, not to Pusher.
    public void AuthorizePrivateChannel_rejects_a_malformed_socket_id(string socketId)
    {
        var ex = Assert.Throws<ArgumentException>(() => _authorizer.AuthorizePrivateChannel(socketId, "private-foo"));
        Assert.Equal("socketId", ex.ParamName);
        Assert.Contains("socket id", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private-a b", "character")]
    [InlineData("private-a/b", "character")]
    [InlineData("private-Ü", "character")]
    [InlineData("private-foo\n", "character")]
    [InlineData("", "empty")]
    [InlineData("public-foo", "must start with 'private-'")]
    [InlineData("presence-foo", "must start with 'private-'")]
    public void AuthorizePrivateChannel_rejects_a_bad_channel_name(string channelName, string problem)
    {
        var ex = Assert.Throws<ArgumentException>(() => _authorizer.AuthorizePrivateChannel("1.2", channelName));
        Assert.Equal("channelName", ex.ParamName);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthorizePrivateChannel_accepts_164_characters_and_rejects_165()
    {
        var longest = "private-" + new string('a', 164 - 8);
        Assert.StartsWith(PusherTestOptions.Key + ":", _authorizer.AuthorizePrivateChannel("1.2", longest), StringComparison.Ordinal);

        var ex = Assert.Throws<ArgumentException>(() => _authorizer.AuthorizePrivateChannel("1.2", longest + "a"));
        Assert.Contains("at most 164", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthorizePrivateChannel_accepts_every_allowed_punctuation() =>
        Assert.NotNull(_authorizer.AuthorizePrivateChannel("1.2", "private-Order_1-2=3@4,5.6;7"));

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"user_info":{}}""")]
    [InlineData("[1]")]
    public void AuthorizePresenceChannel_rejects_channel_data_without_a_user_id(string channelData)
    {
        var ex = Assert.Throws<ArgumentException>(() => _authorizer.AuthorizePresenceChannel("1.2", "presence-x", channelData));
        Assert.Equal("channelData", ex.ParamName);
    }

    [Fact]
    public void Authorizations_never_contain_the_secret() =>
        Assert.DoesNotContain(PusherTestOptions.Secret, _authorizer.AuthorizePrivateChannel("1.2", "private-x"), StringComparison.Ordinal);
}

using EfNotify.Channels;

namespace EfNotify.Tests.Channels;

public class ChannelNamesTests
{
    [Theory]
    [InlineData(42, "private-Order.42")]
    [InlineData(-7L, "private-Order.-7")]
    [InlineData("a b", "private-Order.a=20b")]
    [InlineData("x.y,z", "private-Order.x=2Ey=2Cz")]
    public void Object_channels_encode_keys(object key, string expected)
        => Assert.Equal(expected, ChannelNames.ForObject("Order", key));

    [Theory]
    [InlineData("private-Order")]
    [InlineData("private-Order.42")]
    [InlineData("private-Order.1,2")]
    public void Own_channel_names_parse(string channel)
        => Assert.True(ChannelNames.TryParse(channel, out _, out _));

    [Theory]
    [InlineData("")]
    [InlineData("public-Order.1")]
    [InlineData("presence-Order.1")]
    [InlineData("private-.1")]
    [InlineData("private-Ord er.1")]
    [InlineData("private-Order.=4")]
    [InlineData("private-Order.=41")]
    [InlineData("private-Order.=ZZ")]
    [InlineData("private-Order.a b")]
    [InlineData("private-Order.=C3")]
    public void Foreign_or_malformed_names_do_not_parse(string channel)
        => Assert.False(ChannelNames.TryParse(channel, out _, out _));

    [Theory]
    [InlineData("42", typeof(int), true)]
    [InlineData("042", typeof(int), false)]
    [InlineData("x", typeof(int), false)]
    [InlineData("99999999999", typeof(int), false)]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e", typeof(Guid), true)]
    [InlineData("0F8FAD5B-D9CB-469F-A165-70867728950E", typeof(Guid), false)]
    [InlineData("anything", typeof(string), true)]
    public void Key_text_converts_back_only_in_canonical_form(string text, Type type, bool valid)
        => Assert.Equal(valid, KeyText.TryConvert(text, type, out _));

    [Fact]
    public void Over_long_names_fail_naming_the_limit()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ChannelNames.ForObject("Order", new string('x', 200)));
        Assert.Contains("164", error.Message, StringComparison.Ordinal);
    }
}

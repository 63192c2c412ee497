using System.Text;
using EfNotify.Pusher;

namespace EfNotify.Tests.Pusher;

public class PusherSignatureTests
{
    private const string VectorBody = """{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}""";
    private static readonly DateTimeOffset VectorTime = DateTimeOffset.FromUnixTimeSeconds(1353088179);

    [Fact]
    public void BodyMd5_matches_the_documented_vector() =>
        Assert.Equal("ec365a775a4cd0599faeb73354201b6f", PusherSignature.BodyMd5(Encoding.UTF8.GetBytes(VectorBody)));

    [Fact]
    public void StringToSign_matches_the_documented_vector()
    {
        var parameters = new Dictionary<string, string>
        {
            ["body_md5"] = "ec365a775a4cd0599faeb73354201b6f",
            ["auth_version"] = "1.0",
            ["auth_key"] = PusherTestOptions.Key,
            ["auth_timestamp"] = "1353088179",
        };

        Assert.Equal(
            "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f",
            PusherSignature.StringToSign("POST", "/apps/3/events", parameters));
    }

    [Fact]
    public void SignedQuery_carries_the_documented_signature()
    {
        var query = PusherSignature.SignedQuery(
            "POST", "/apps/3/events", PusherTestOptions.Key, PusherTestOptions.Secret, VectorTime, [], Encoding.UTF8.GetBytes(VectorBody), hasBody: true);

        Assert.Equal(
            "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
            + "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c",
            query);
    }

    [Fact]
    public void StringToSign_lowercases_and_sorts_keys_and_does_not_escape_values()
    {
        var text = PusherSignature.StringToSign("get", "/apps/3/channels", [new("Info", "user_count,subscription_count"), new("filter_by_prefix", "presence-")]);

        Assert.Equal("GET\n/apps/3/channels\nfilter_by_prefix=presence-&info=user_count,subscription_count", text);
    }

    [Fact]
    public void SignedQuery_percent_encodes_values_in_the_url_but_signs_them_raw()
    {
        var query = PusherSignature.SignedQuery(
            "GET", "/apps/3/channels", "k", "s", VectorTime, [new("info", "user_count,subscription_count")], default, hasBody: false);

        Assert.Contains("info=user_count%2Csubscription_count", query, StringComparison.Ordinal);
        Assert.DoesNotContain("body_md5", query, StringComparison.Ordinal);
        var expected = PusherSignature.HmacHex("s", "GET\n/apps/3/channels\nauth_key=k&auth_timestamp=1353088179&auth_version=1.0&info=user_count,subscription_count");
        Assert.EndsWith("&auth_signature=" + expected, query, StringComparison.Ordinal);
    }
}

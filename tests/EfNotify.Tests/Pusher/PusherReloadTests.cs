using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using EfNotify.Pusher;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.Tests.Pusher;

/// <summary>
/// Issue 17: the Pusher settings are read again for every request, so a corrected or rotated secret applies to the next
/// one without a restart; several secrets may be configured while one is rotated.
/// </summary>
public sealed class PusherReloadTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
    private readonly IConfigurationRoot _configuration = new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EfNotify:Pusher:AppId"] = "3",
            ["EfNotify:Pusher:Key"] = PusherTestOptions.Key,
            ["EfNotify:Pusher:Secret"] = "the-old-secret",
            ["EfNotify:Pusher:Host"] = "soketi.test",
            ["EfNotify:Pusher:Port"] = "6001",
            ["EfNotify:Pusher:UseTls"] = "false",
        })
        .Build();

    private readonly ServiceProvider _provider;

    public PusherReloadTests()
    {
        var services = new ServiceCollection();
        new EfNotifyBuilder(services).AddPusher(_configuration);
        _provider = services.BuildServiceProvider();
    }

    private IOptionsMonitor<PusherOptions> Monitor => _provider.GetRequiredService<IOptionsMonitor<PusherOptions>>();

    public void Dispose() => _provider.Dispose();

    private void Reload(params (string Key, string? Value)[] settings)
    {
        foreach (var (key, value) in settings)
        {
            _configuration[$"EfNotify:Pusher:{key}"] = value;
        }

        try
        {
            _configuration.Reload();
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            // The options monitor validates the new settings as the reload is announced; with a file that changed on disk
            // this happens on the file watcher's thread, and the settings are validated again when next read.
        }
    }

    private static string SignatureFor(string secret, Uri uri, string body)
    {
        var query = HttpUtility.ParseQueryString(uri.Query);
        var stringToSign = $"POST\n{uri.AbsolutePath}\nauth_key={query["auth_key"]}&auth_timestamp={query["auth_timestamp"]}&auth_version=1.0&body_md5={query["body_md5"]}";
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(stringToSign)));
    }

    [Fact]
    public async Task A_secret_changed_by_a_configuration_reload_signs_the_next_request()
    {
        var handler = new RecordingHandler();
        var client = new PusherClient(new HttpClient(handler), Monitor, _time);

        await client.TriggerAsync(["c"], "e", "d");
        Reload(("Secret", "the-new-secret"), ("AppId", "4"));
        await client.TriggerAsync(["c"], "e", "d");

        var (first, second) = (handler.Requests[0], handler.Requests[1]);
        Assert.Equal(SignatureFor("the-old-secret", first.Uri, first.Body!), HttpUtility.ParseQueryString(first.Uri.Query)["auth_signature"]);
        Assert.Equal(SignatureFor("the-new-secret", second.Uri, second.Body!), HttpUtility.ParseQueryString(second.Uri.Query)["auth_signature"]);
        Assert.Equal("/apps/4/events", second.Uri.AbsolutePath);
    }

    [Fact]
    public async Task The_first_of_several_secrets_signs_and_every_one_is_redacted()
    {
        var handler = new RecordingHandler(HttpStatusCode.Unauthorized, "echoing the-new-secret and the-old-secret");
        Reload(("Secret", null), ("Secrets:0", "the-new-secret"), ("Secrets:1", "the-old-secret"));
        var client = new PusherClient(new HttpClient(handler), Monitor, _time);

        var ex = await Assert.ThrowsAsync<PublishException>(() => client.TriggerAsync(["c"], "e", "d"));

        var request = Assert.Single(handler.Requests);
        Assert.Equal(SignatureFor("the-new-secret", request.Uri, request.Body!), HttpUtility.ParseQueryString(request.Uri.Query)["auth_signature"]);
        Assert.DoesNotContain("secret", ex.Message.Replace("***", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(PublishRefusalScope.Application, ex.Scope);
    }

    [Fact]
    public async Task Settings_reloaded_into_invalid_ones_refuse_every_request_as_a_fault_of_the_application_naming_the_setting()
    {
        var handler = new RecordingHandler();
        var transport = new PusherNotificationTransport(new PusherClient(new HttpClient(handler), Monitor, _time), new PusherEncryption(Monitor.CurrentValue));
        Reload(("MaxEventDataBytes", "4096"));
        Assert.Equal(4096, transport.MaxEventDataBytes);

        Reload(("Secret", ""));
        var ex = await Assert.ThrowsAsync<PublishException>(() => transport.PublishAsync([new OutgoingEvent("c", "e", "d")], CancellationToken.None));

        Assert.Equal(PublishRefusalScope.Application, ex.Scope);
        Assert.False(ex.IsTransient);
        Assert.Contains("EfNotify:Pusher:Secret is required", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4096, transport.MaxEventDataBytes); // the last valid limit, so the dispatcher can still read its rows
        Assert.Empty(handler.Requests);

        Reload(("Secret", "fixed"));
        await transport.PublishAsync([new OutgoingEvent("c", "e", "d")], CancellationToken.None);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public void The_registered_channel_authorizer_signs_with_the_reloaded_secret()
    {
        var authorizer = _provider.GetRequiredService<PusherChannelAuthorizer>();
        var before = authorizer.AuthorizePrivateChannel("1234.1234", "private-foobar");

        // The vector of Pusher's documentation (pusher-protocol.md §4): this key and secret give this signature.
        Reload(("Secret", PusherTestOptions.Secret));

        Assert.Equal($"{PusherTestOptions.Key}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4", authorizer.AuthorizePrivateChannel("1234.1234", "private-foobar"));
        Assert.NotEqual(before, authorizer.AuthorizePrivateChannel("1234.1234", "private-foobar"));
    }

    [Fact]
    public void A_webhook_signed_with_any_configured_secret_verifies_and_anything_else_does_not()
    {
        var verifier = _provider.GetRequiredService<PusherWebhookVerifier>();
        var body = Encoding.UTF8.GetBytes("""{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"private-Order.1"}]}""");
        string Sign(string secret) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

        Assert.True(verifier.IsValid(Sign("the-old-secret"), body));
        Reload(("Secret", null), ("Secrets:0", "the-new-secret"), ("Secrets:1", "the-old-secret"));

        Assert.True(verifier.IsValid(Sign("the-new-secret"), body));
        Assert.True(verifier.IsValid(Sign("the-old-secret"), body));
        Assert.True(verifier.IsValid(Sign("the-new-secret").ToUpperInvariant(), body));
        Assert.False(verifier.IsValid(Sign("another-secret"), body));
        Assert.False(verifier.IsValid(Sign("the-new-secret"), [.. body, (byte)' ']));
        Assert.False(verifier.IsValid(null, body));
        Assert.False(verifier.IsValid("not hex", body));
        Assert.False(verifier.IsValid(new string('z', 64), body));
    }

    [Theory]
    [InlineData("Secret", "s", "Secrets:0", "t", "Set either EfNotify:Pusher:Secret or EfNotify:Pusher:Secrets, not both")]
    [InlineData("Secret", null, "Secrets:0", "", "EfNotify:Pusher:Secrets:0 must not be empty")]
    [InlineData("Secret", "", "Other", "x", "EfNotify:Pusher:Secret is required (or EfNotify:Pusher:Secrets, a list whose first entry signs)")]
    public void Secrets_are_validated_with_a_message_naming_the_setting(string key1, string? value1, string key2, string value2, string message)
    {
        Reload((key1, value1), (key2, value2));

        var ex = Assert.Throws<OptionsValidationException>(() => Monitor.CurrentValue);

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Text;
using System.Web;
using EfNotify.Pusher;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.Tests.Pusher;

public class PusherClientTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private readonly FakeTimeProvider _time = new(Now);

    private PusherClient CreateClient(RecordingHandler handler, Action<PusherOptions>? change = null) =>
        new(new HttpClient(handler), Options.Create(PusherTestOptions.Create(change)), _time);

    [Fact]
    public async Task TriggerAsync_posts_a_signed_request_to_events()
    {
        var handler = new RecordingHandler();

        await CreateClient(handler).TriggerAsync(["private-a", "private-b"], "updated", """{"id":1}""", "123.456");

        var (method, uri, body) = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, method);
        Assert.Equal("http://soketi.test:6001/apps/3/events", uri.GetLeftPart(UriPartial.Path));
        Assert.Equal("""{"name":"updated","data":"{\u0022id\u0022:1}","channels":["private-a","private-b"],"socket_id":"123.456"}""", body);

        var query = HttpUtility.ParseQueryString(uri.Query);
        Assert.Equal(PusherTestOptions.Key, query["auth_key"]);
        Assert.Equal("1700000000", query["auth_timestamp"]);
        Assert.Equal("1.0", query["auth_version"]);
        Assert.Equal(PusherSignature.BodyMd5(Encoding.UTF8.GetBytes(body!)), query["body_md5"]);
        var expected = PusherSignature.HmacHex(
            PusherTestOptions.Secret,
            $"POST\n/apps/3/events\nauth_key={PusherTestOptions.Key}&auth_timestamp=1700000000&auth_version=1.0&body_md5={query["body_md5"]}");
        Assert.Equal(expected, query["auth_signature"]);
        Assert.DoesNotContain(PusherTestOptions.Secret, uri.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TriggerAsync_omits_a_null_socket_id()
    {
        var handler = new RecordingHandler();

        await CreateClient(handler).TriggerAsync(["c"], "e", "d");

        Assert.DoesNotContain("socket_id", Assert.Single(handler.Requests).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TriggerAsync_takes_the_timestamp_from_the_time_provider()
    {
        var handler = new RecordingHandler();
        var client = CreateClient(handler);

        await client.TriggerAsync(["c"], "e", "d");
        _time.Advance(TimeSpan.FromSeconds(90));
        await client.TriggerAsync(["c"], "e", "d");

        Assert.Equal(
            ["1700000000", "1700000090"],
            handler.Requests.Select(r => HttpUtility.ParseQueryString(r.Uri.Query)["auth_timestamp"]));
    }

    [Fact]
    public async Task TriggerBatchAsync_posts_the_events_in_order_to_batch_events()
    {
        var handler = new RecordingHandler();

        await CreateClient(handler).TriggerBatchAsync([new("private-a", "one", "1"), new("private-b", "two", "2", "1.2")]);

        var (_, uri, body) = Assert.Single(handler.Requests);
        Assert.Equal("/apps/3/batch_events", uri.AbsolutePath);
        Assert.Equal(
            """{"batch":[{"channel":"private-a","name":"one","data":"1"},{"channel":"private-b","name":"two","data":"2","socket_id":"1.2"}]}""",
            body);
    }

    [Fact]
    public async Task GetChannelAsync_reads_occupied_and_subscription_count()
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, """{"occupied":true,"subscription_count":2}""");

        var info = await CreateClient(handler).GetChannelAsync("private-a");

        Assert.Equal(new PusherChannelInfo(true, 2, null), info);
        var (method, uri, body) = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, method);
        Assert.Null(body);
        Assert.Equal("/apps/3/channels/private-a", uri.AbsolutePath);
        Assert.Equal("subscription_count", HttpUtility.ParseQueryString(uri.Query)["info"]);
    }

    [Theory]
    [InlineData("mt1", null, null, true, "https://api-mt1.pusher.com/", "wss://ws-mt1.pusher.com/app/key?protocol=7&client=efnotify&version=1.0")]
    [InlineData("eu", null, null, false, "http://api-eu.pusher.com/", "ws://ws-eu.pusher.com/app/key?protocol=7&client=efnotify&version=1.0")]
    [InlineData(null, "127.0.0.1", 6001, false, "http://127.0.0.1:6001/", "ws://127.0.0.1:6001/app/key?protocol=7&client=efnotify&version=1.0")]
    [InlineData(null, "push.example.com", null, true, "https://push.example.com/", "wss://push.example.com/app/key?protocol=7&client=efnotify&version=1.0")]
    [InlineData(null, "push.example.com", 8443, true, "https://push.example.com:8443/", "wss://push.example.com:8443/app/key?protocol=7&client=efnotify&version=1.0")]
    public void Urls_come_from_the_cluster_or_the_host(string? cluster, string? host, int? port, bool useTls, string api, string webSocket)
    {
        var options = new PusherOptions { AppId = "3", Key = "key", Secret = "s", Cluster = cluster, Host = host, Port = port, UseTls = useTls };

        Assert.Equal(api, PusherUrls.GetApiBaseUri(options).ToString());
        Assert.Equal(webSocket, PusherUrls.GetWebSocketUri(options).ToString());
    }

    [Fact]
    public async Task Requests_go_to_the_cluster_api_host()
    {
        var handler = new RecordingHandler();

        await CreateClient(handler, o => { o.Host = null; o.Port = null; o.Cluster = "mt1"; o.UseTls = true; }).TriggerAsync(["c"], "e", "d");

        Assert.Equal("https://api-mt1.pusher.com/apps/3/events", Assert.Single(handler.Requests).Uri.GetLeftPart(UriPartial.Path));
    }

    [Theory]
    [InlineData(400, """{"error":"Missing data"}""", 400, false)]
    [InlineData(401, "Invalid signature: you should have sent HmacSHA256Hex(...)", 401, false)]
    [InlineData(403, "", 403, false)]
    [InlineData(404, """{"error":"App not found"}""", 404, false)]
    [InlineData(413, """{"error":"Request too large"}""", 413, false)]
    [InlineData(408, "", 408, true)]
    [InlineData(429, "", 429, true)]
    [InlineData(500, "<html>Internal Server Error</html>", 500, true)]
    [InlineData(502, "", 502, true)]
    [InlineData(503, """{"error":"Service unavailable"}""", 503, true)]
    public async Task A_refusal_by_http_status_becomes_a_PublishException(int status, string body, int code, bool transient)
    {
        var handler = new RecordingHandler((HttpStatusCode)status, body);

        var ex = await Assert.ThrowsAsync<PublishException>(() => CreateClient(handler).TriggerAsync(["c"], "e", "d"));

        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(transient, ex.IsTransient);
        Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"error":"The secret authentication failed","code":401}""", 401, false, "The secret authentication failed")]
    [InlineData("""{"error":"Cannot batch-send more than 10 messages at once","code":400}""", 400, false, "more than 10")]
    [InlineData("""{"error":"The event data should be less than 100 KB.","code":413}""", 413, false, "less than 100 KB")]
    [InlineData("""{"error":"The app does not exist","code":404}""", 404, false, "does not exist")]
    [InlineData("""{"error":"The current app is disabled","code":403}""", 403, false, "disabled")]
    [InlineData("""{"error":"Too many requests.","code":429}""", 429, true, "Too many")]
    [InlineData("""{"error":"Something went wrong","code":500}""", 500, true, "went wrong")]
    public async Task A_refusal_in_a_200_body_becomes_a_PublishException(string body, int code, bool transient, string text)
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, body);

        var ex = await Assert.ThrowsAsync<PublishException>(() => CreateClient(handler).TriggerBatchAsync([new("c", "e", "d")]));

        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(transient, ex.IsTransient);
        Assert.Contains(text, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_without_a_code_in_a_200_body_is_a_permanent_refusal()
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, """{"error":"nope"}""");

        var ex = await Assert.ThrowsAsync<PublishException>(() => CreateClient(handler).TriggerAsync(["c"], "e", "d"));

        Assert.Null(ex.StatusCode);
        Assert.False(ex.IsTransient);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"ok":true}""")]
    [InlineData("""{"channels":{}}""")]
    [InlineData("")]
    [InlineData("OK")]
    public async Task A_200_without_an_error_is_success(string body) =>
        await CreateClient(new RecordingHandler(HttpStatusCode.OK, body)).TriggerAsync(["c"], "e", "d");

    [Fact]
    public async Task The_secret_never_appears_in_an_exception_message_even_when_the_server_echoes_it()
    {
        var handler = new RecordingHandler(HttpStatusCode.Unauthorized, $"Invalid signature: expected HMAC with secret {PusherTestOptions.Secret}");

        var ex = await Assert.ThrowsAsync<PublishException>(() => CreateClient(handler).TriggerAsync(["c"], "e", "d"));

        Assert.DoesNotContain(PusherTestOptions.Secret, ex.ToString(), StringComparison.Ordinal);
        Assert.Contains("***", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_network_fault_propagates_as_HttpRequestException()
    {
        var handler = new RecordingHandler((_, _) => throw new HttpRequestException("Connection refused (soketi.test:6001)"));

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => CreateClient(handler).TriggerAsync(["c"], "e", "d"));

        Assert.DoesNotContain(PusherTestOptions.Secret, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_within_RequestTimeout_is_a_TimeoutException()
    {
        var handler = new RecordingHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });
        var client = CreateClient(handler, o => o.RequestTimeout = TimeSpan.FromSeconds(5));

        var trigger = client.TriggerAsync(["c"], "e", "d");
        _time.Advance(TimeSpan.FromSeconds(5));

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => trigger);
        Assert.Contains("5 s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpClient_Timeout_also_becomes_a_TimeoutException()
    {
        var handler = new RecordingHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });
        var client = new PusherClient(
            new HttpClient(handler) { Timeout = TimeSpan.FromMilliseconds(50) }, Options.Create(PusherTestOptions.Create()), _time);

        await Assert.ThrowsAsync<TimeoutException>(() => client.TriggerAsync(["c"], "e", "d"));
    }

    [Fact]
    public async Task Cancellation_by_the_caller_stays_a_cancellation()
    {
        var handler = new RecordingHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });
        using var cts = new CancellationTokenSource();

        var trigger = CreateClient(handler).TriggerAsync(["c"], "e", "d", cancellationToken: cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => trigger);
    }

    [Fact]
    public async Task TriggerAsync_rejects_a_malformed_socket_id_before_sending()
    {
        var handler = new RecordingHandler();

        await Assert.ThrowsAsync<ArgumentException>(() => CreateClient(handler).TriggerAsync(["c"], "e", "d", "not-a-socket"));

        Assert.Empty(handler.Requests);
    }
}

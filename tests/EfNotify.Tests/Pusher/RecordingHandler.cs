using System.Net;
using System.Text;

namespace EfNotify.Tests.Pusher;

/// <summary>
/// Answers every request with a fixed status and body and keeps what was sent. It stands in for faults a real
/// server cannot easily be made to show (a 503, a 429, an HTML error page, a hung connection).
/// </summary>
internal sealed class RecordingHandler : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _respond;

    public RecordingHandler(HttpStatusCode status = HttpStatusCode.OK, string body = """{"ok":true}""")
        : this((_, _) => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") }))
    {
    }

    public RecordingHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> respond) => _respond = respond;

    public List<(HttpMethod Method, Uri Uri, string? Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Requests)
        {
            Requests.Add((request.Method, request.RequestUri!, body));
        }

        return await _respond(request, cancellationToken);
    }
}

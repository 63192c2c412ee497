using EfNotify.Pusher;

namespace EfNotify.Sample.Web;

/// <summary>
/// A strict Content Security Policy: scripts only from this origin (no inline script, no CDN), and WebSocket connections
/// only to this origin and the Pusher server: ws(s)://host:port for a self-hosted one, wss://ws-{cluster}.pusher.com for Pusher.
/// </summary>
internal static class ContentSecurityPolicy
{
    public static Func<HttpContext, RequestDelegate, Task> Create(PusherOptions pusher)
    {
        var socket = string.IsNullOrWhiteSpace(pusher.Host)
            ? $"wss://ws-{pusher.Cluster}.pusher.com"
            : $"{(pusher.UseTls ? "wss" : "ws")}://{pusher.Host}:{pusher.Port ?? (pusher.UseTls ? 443 : 80)}";
        var policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + $"connect-src 'self' {socket}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
        return (context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = policy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        };
    }
}

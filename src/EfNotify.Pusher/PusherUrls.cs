using System.Globalization;

namespace EfNotify.Pusher;

/// <summary>Builds the REST and WebSocket addresses from <see cref="PusherOptions"/>.</summary>
internal static class PusherUrls
{
    public static Uri GetApiBaseUri(PusherOptions options)
    {
        var host = string.IsNullOrWhiteSpace(options.Host) ? $"api-{options.Cluster}.pusher.com" : options.Host;
        return Build(options.UseTls ? "https" : "http", host, options.Port, "");
    }

    /// <summary>The address a browser (or a test client) connects to, speaking protocol 7.</summary>
    public static Uri GetWebSocketUri(PusherOptions options, string client = "efnotify", string version = "1.0")
    {
        var host = string.IsNullOrWhiteSpace(options.Host) ? $"ws-{options.Cluster}.pusher.com" : options.Host;
        var query = string.Create(
            CultureInfo.InvariantCulture,
            $"?protocol=7&client={Uri.EscapeDataString(client)}&version={Uri.EscapeDataString(version)}");
        return Build(options.UseTls ? "wss" : "ws", host, options.Port, $"/app/{Uri.EscapeDataString(options.Key)}{query}");
    }

    private static Uri Build(string scheme, string host, int? port, string pathAndQuery)
    {
        var builder = new UriBuilder(scheme, host, port ?? -1);
        var root = builder.Uri.GetLeftPart(UriPartial.Authority);
        return new Uri(root + pathAndQuery);
    }
}

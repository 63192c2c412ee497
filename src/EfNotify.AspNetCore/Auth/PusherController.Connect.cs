using System.Buffers;
using System.Text;
using System.Text.Json;
using EfNotify.Pusher;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace EfNotify.AspNetCore.Auth;

/// <summary>How a browser connects: the settings pusher-js needs, and the user's sign-in that makes revocation possible.</summary>
internal sealed partial class PusherController
{
    [HttpGet("key")]
    [ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
    public IActionResult Key()
    {
        var settings = pusherOptions.CurrentValue; // a reloaded key (rotation) is served at once
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("key", settings.Key);
            writer.WriteStartObject("options");
            if (string.IsNullOrWhiteSpace(settings.Host))
            {
                writer.WriteString("cluster", settings.Cluster);
            }
            else
            {
                // pusher-js 8 insists on a cluster; with wsHost set it is not used.
                writer.WriteString("cluster", "");
                writer.WriteString("wsHost", settings.Host);
                var port = settings.Port ?? (settings.UseTls ? 443 : 80);
                writer.WriteNumber("wsPort", port);
                writer.WriteNumber("wssPort", port);
            }

            writer.WriteBoolean("forceTLS", settings.UseTls);

            // WebSocket only: pusher-js's HTTP fallbacks load scripts from Pusher's CDN, which a strict CSP refuses.
            writer.WriteStartArray("enabledTransports");
            writer.WriteStringValue("ws");
            writer.WriteStringValue("wss");
            writer.WriteEndArray();
            writer.WriteStartObject("channelAuthorization");
            writer.WriteString("endpoint", Request.PathBase.Add("/pusher/auth").ToString());
            writer.WriteString("transport", "ajax");
            writer.WriteEndObject();
            WriteUserAuthentication(writer);
            writer.WriteEndObject();
            WriteEncryptedEntities(writer, settings);
            writer.WriteEndObject();
        }

        return Content(Encoding.UTF8.GetString(buffer.WrittenSpan), "application/json");
    }

    /// <summary>
    /// pusher-js user authentication (<c>signin()</c>): signs the user's id, so the server knows which connections are the
    /// user's and can close them (<see cref="ISubscriptionRevocation"/>).
    /// </summary>
    [HttpPost("user-auth")]
    [IgnoreAntiforgeryToken]
    [RequestSizeLimit(MaxFormLength)]
    [RequestFormLimits(ValueLengthLimit = MaxFormLength, KeyLengthLimit = 64, ValueCountLimit = 8)]
    public async Task<IActionResult> UserAuth()
    {
        if (!limiter.TryAcquire(HttpContext, out var retryAfter))
        {
            return RateLimited(retryAfter);
        }

        if (User.Identity?.IsAuthenticated != true || UserIds.Of(User) is not { Length: > 0 } userId)
        {
            return Denied(StatusCodes.Status401Unauthorized, "unauthenticated");
        }

        if (!Request.HasFormContentType)
        {
            return Malformed("not a form post");
        }

        IFormCollection form;
        try
        {
            form = await Request.ReadFormAsync(HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or BadHttpRequestException or FormatException or OperationCanceledException)
        {
            return Malformed("unreadable form: " + exception.Message);
        }

        if (form["socket_id"] is not [{ } socketId] || !SocketIdPattern().IsMatch(socketId))
        {
            return Malformed("socket_id missing, repeated or not like 1234.5678");
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", userId);
            writer.WriteEndObject();
        }

        var userData = Encoding.UTF8.GetString(buffer.WrittenSpan);
        var answer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(answer))
        {
            writer.WriteStartObject();
            writer.WriteString("auth", authorizer.AuthenticateUser(socketId, userData));
            writer.WriteString("user_data", userData);
            writer.WriteEndObject();
        }

        return Content(Encoding.UTF8.GetString(answer.WrittenSpan), "application/json");
    }

    private void WriteUserAuthentication(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("userAuthentication");
        writer.WriteString("endpoint", Request.PathBase.Add("/pusher/user-auth").ToString());
        writer.WriteString("transport", "ajax");
        writer.WriteEndObject();
    }

    /// <summary>Which entities' channels are <c>private-encrypted-</c>: <c>"*"</c> for all, a list, or absent without encryption.</summary>
    private static void WriteEncryptedEntities(Utf8JsonWriter writer, PusherOptions settings)
    {
        if (string.IsNullOrEmpty(settings.EncryptionMasterKey))
        {
            return;
        }

        if (settings.EncryptedEntities.Count == 0)
        {
            writer.WriteString("encryptedEntities", "*");
            return;
        }

        writer.WriteStartArray("encryptedEntities");
        foreach (var entity in settings.EncryptedEntities)
        {
            writer.WriteStringValue(entity);
        }

        writer.WriteEndArray();
    }
}

using EfNotify.AspNetCore.Auth;
using EfNotify.Channels;
using Microsoft.AspNetCore.Http;

namespace EfNotify.AspNetCore;

/// <summary>
/// The notifier of the current request: the signed-in user's name, and the Pusher socket id that the browser sends in the
/// <c>X-Socket-ID</c> header (efnotify.js adds it), so the tab that made a change does not receive its own notification.
/// Read per SaveChanges through <see cref="IHttpContextAccessor"/>; outside a request both are <see langword="null"/>.
/// </summary>
internal sealed class HttpNotifierContext(IHttpContextAccessor accessor) : INotifierContext
{
    public const string SocketIdHeader = "X-Socket-ID";

    public string? UserName
        => accessor.HttpContext?.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : null;

    public string? SocketId
    {
        get
        {
            // One well-formed value or none: anything else is ignored, never forwarded to Pusher.
            if (accessor.HttpContext?.Request.Headers[SocketIdHeader] is not [{ Length: <= 64 } value])
            {
                return null;
            }

            return PusherProtocol.IsValidSocketId(value) ? value : null;
        }
    }
}

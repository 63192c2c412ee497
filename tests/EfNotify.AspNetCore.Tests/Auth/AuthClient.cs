using System.Security.Cryptography;
using System.Text;
using EfNotify.AspNetCore.Tests.TestApp;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>Posts channel authorizations the way pusher-js does, as a given user.</summary>
internal static class AuthClient
{
    public const string SocketId = "1234.1234";

    public static Task<HttpResponseMessage> AuthorizeAsync(
        this HttpClient client, string channel, string? user = "alice", string roles = "User", string tenant = "t1", string socketId = SocketId)
        => client.PostFormAsync([new("socket_id", socketId), new("channel_name", channel)], user, roles, tenant);

    public static async Task<HttpResponseMessage> PostFormAsync(
        this HttpClient client, IEnumerable<KeyValuePair<string, string>> fields, string? user = "alice", string roles = "User", string tenant = "t1")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/pusher/auth") { Content = new FormUrlEncodedContent(fields) };
        As(request, user, roles, tenant);
        return await client.SendAsync(request);
    }

    public static HttpRequestMessage As(this HttpRequestMessage request, string? user, string roles = "User", string tenant = "t1")
    {
        if (user is not null)
        {
            request.Headers.Add(TestAuthHandler.UserHeader, user);
            request.Headers.Add(TestAuthHandler.RolesHeader, roles);
            request.Headers.Add(TestAuthHandler.TenantHeader, tenant);
        }

        return request;
    }

    /// <summary>The signature computed here, independently of EfNotify's code: hex HMAC-SHA256 of the secret.</summary>
    public static string ExpectedAuth(string signed)
        => AuthTestApp.VectorKey + ":" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AuthTestApp.VectorSecret), Encoding.UTF8.GetBytes(signed)));
}

using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EfNotify.AspNetCore.Tests.TestApp;
using EfNotify.Pusher;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>Issue 16: POST /pusher/user-auth signs the user in; encrypted channels get their shared secret after the same check.</summary>
public sealed class SignInAndEncryptedAuthTests(AuthTestApp app) : IClassFixture<AuthTestApp>, IDisposable
{
    private static readonly byte[] MasterKey = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    private readonly List<AuthTestApp> _apps = [];

    public void Dispose() => _apps.ForEach(a => a.Dispose());

    private HttpClient EncryptedClient(params string[] entities)
    {
        var encrypted = new AuthTestApp(services => services.Configure<PusherOptions>(o =>
        {
            o.EncryptionMasterKey = Convert.ToBase64String(MasterKey);
            foreach (var entity in entities)
            {
                o.EncryptedEntities.Add(entity);
            }
        }));
        _apps.Add(encrypted);
        return encrypted.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
    }

    [Fact]
    public async Task Sign_in_answers_the_users_id_signed_as_the_protocol_specifies()
    {
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/pusher/user-auth")
        {
            Content = new FormUrlEncodedContent([new("socket_id", AuthClient.SocketId)]),
        }.As("alice");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        // The NameIdentifier claim (the test scheme's "id-alice"), which presence channels use too.
        Assert.Equal("""{"id":"id-alice"}""", json.RootElement.GetProperty("user_data").GetString());
        Assert.Equal(AuthClient.ExpectedAuth("""1234.1234::user::{"id":"id-alice"}"""), json.RootElement.GetProperty("auth").GetString());
    }

    [Fact]
    public async Task Sign_in_refuses_anonymous_users_and_malformed_socket_ids()
    {
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });
        using var anonymous = await client.PostAsync("/pusher/user-auth", new FormUrlEncodedContent([new("socket_id", AuthClient.SocketId)]));
        using var malformed = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/pusher/user-auth")
        {
            Content = new FormUrlEncodedContent([new("socket_id", "1234")]),
        }.As("alice"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task An_encrypted_channel_the_user_may_read_gets_its_shared_secret_and_others_the_same_bare_403()
    {
        using var client = EncryptedClient("Project");

        using var granted = await client.AuthorizeAsync("private-encrypted-Project.1");
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        using var json = JsonDocument.Parse(await granted.Content.ReadAsStringAsync());
        Assert.Equal(AuthClient.ExpectedAuth("1234.1234:private-encrypted-Project.1"), json.RootElement.GetProperty("auth").GetString());
        var expected = SHA256.HashData([.. Encoding.UTF8.GetBytes("private-encrypted-Project.1"), .. MasterKey]);
        Assert.Equal(Convert.ToBase64String(expected), json.RootElement.GetProperty("shared_secret").GetString());

        foreach (var channel in new[] { "private-encrypted-Project.2", "private-encrypted-Note.7c9e6679-7425-40de-944b-e07fc1f90ae7", "private-encrypted-Shipment.S=C3=A3o=20Paulo,7" })
        {
            using var refused = await client.AuthorizeAsync(channel);
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{channel}: {refused.StatusCode}");
            Assert.Empty(await refused.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task The_key_endpoint_tells_the_client_where_to_sign_in_and_which_entities_are_encrypted()
    {
        using var client = EncryptedClient("Project");
        using var json = JsonDocument.Parse(await client.GetStringAsync("/pusher/key"));

        Assert.Equal("/pusher/user-auth", json.RootElement.GetProperty("options").GetProperty("userAuthentication").GetProperty("endpoint").GetString());
        Assert.Equal(["Project"], json.RootElement.GetProperty("encryptedEntities").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(Convert.ToBase64String(MasterKey), json.RootElement.GetRawText(), StringComparison.Ordinal);
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using EfNotify.AspNetCore.Tests.TestApp;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>POST /pusher/auth: 200 with the signature only for objects the user may read; 401, 403 and 400 otherwise, never 500.</summary>
public sealed class PusherAuthEndpointTests(AuthTestApp app) : IClassFixture<AuthTestApp>
{
    private readonly HttpClient _client = app.CreateClient(new() { AllowAutoRedirect = false });

    [Fact]
    public async Task The_protocol_test_vector_is_answered_exactly_for_a_granted_list_channel()
    {
        using var response = await _client.AuthorizeAsync("private-foobar");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            """{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_owner_in_the_same_tenant_gets_a_valid_signature_for_the_objects_channel()
    {
        using var response = await _client.AuthorizeAsync("private-Project.1", socketId: "98765.4321");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AuthClient.ExpectedAuth("98765.4321:private-Project.1"), await AuthValueAsync(response));
    }

    [Fact]
    public async Task An_unauthenticated_request_gets_401_and_no_login_redirect()
    {
        using var response = await _client.AuthorizeAsync("private-Project.1", user: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task A_user_without_the_required_role_gets_403()
    {
        using var response = await _client.AuthorizeAsync("private-Project.1", roles: "Guest");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Theory]
    [InlineData("private-Project.2", "another user's project")]
    [InlineData("private-Project.3", "another tenant's project whose owner has the same name")]
    [InlineData("private-Project.4", "a soft-deleted project")]
    [InlineData("private-Project.404", "a project that does not exist")]
    [InlineData("private-Secret.1", "an entity with neither a rule nor an authorization handler")]
    [InlineData("private-Note.7c9e6679-7425-40de-944b-e07fc1f90ae7", "another author's note (easy rule)")]
    [InlineData("private-Nothing.1", "an entity type that is not in the model")]
    [InlineData("private-Project.abc", "a key that is not an int")]
    [InlineData("private-Project.007", "a key that is not in canonical form")]
    [InlineData("private-Project.1,2", "a key with too many parts")]
    [InlineData("private-Project", "a list channel whose rule refuses this user")]
    [InlineData("private-Note", "a list channel with no rule")]
    [InlineData("private-encrypted-Project.1", "an encrypted channel")]
    [InlineData("presence-Project.2", "the presence channel of another user's project")]
    [InlineData("presence-foobar", "a presence channel of a list")]
    [InlineData("private-Explosive.1", "an object whose rule throws")]
    public async Task A_channel_the_user_may_not_read_gets_the_same_bare_403(string channel, string why)
    {
        using var response = await _client.AuthorizeAsync(channel);

        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{why}: {response.StatusCode}");
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_missing_object_and_a_foreign_one_cannot_be_told_apart()
    {
        using var missing = await _client.AuthorizeAsync("private-Project.404");
        using var foreign = await _client.AuthorizeAsync("private-Project.2");

        Assert.Equal(missing.StatusCode, foreign.StatusCode);
        Assert.Equal(await missing.Content.ReadAsStringAsync(), await foreign.Content.ReadAsStringAsync());
        Assert.Equal(
            missing.Content.Headers.Select(h => h.Key).Order(),
            foreign.Content.Headers.Select(h => h.Key).Order());
    }

    [Theory]
    [InlineData("private-Project.5", "alice", "User", "a shared project, granted by the application's authorization handler")]
    [InlineData("private-Project.2", "bob", "User", "bob's own project")]
    [InlineData("private-Note.0f8fad5b-d9cb-469f-a165-70867728950e", "alice", "User", "her own note, granted by the easy rule")]
    [InlineData("private-Shipment.S=C3=A3o=20Paulo,7", "alice", "User", "a composite key with escaped text")]
    [InlineData("private-Ticket.9", "alice", "User", "a key behind a value converter")]
    [InlineData("private-Project", "carol", "User,Admin", "a list channel whose rule grants admins")]
    public async Task A_channel_the_user_may_read_is_signed(string channel, string user, string roles, string why)
    {
        using var response = await _client.AuthorizeAsync(channel, user: user, roles: roles);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{why}: {response.StatusCode}");
        Assert.Equal(AuthClient.ExpectedAuth($"{AuthClient.SocketId}:{channel}"), await AuthValueAsync(response));
    }

    [Fact]
    public async Task The_tenant_filter_decides_which_of_the_owners_projects_exist()
    {
        using var ownTenant = await _client.AuthorizeAsync("private-Project.3", tenant: "t2");
        using var otherTenant = await _client.AuthorizeAsync("private-Project.3", tenant: "t1");

        Assert.Equal(HttpStatusCode.OK, ownTenant.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherTenant.StatusCode);
    }

    [Fact]
    public async Task A_presence_channel_of_a_readable_object_is_signed_with_the_users_channel_data()
    {
        using var response = await _client.AuthorizeAsync("presence-Project.1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var channelData = body.RootElement.GetProperty("channel_data").GetString()!;
        using var data = JsonDocument.Parse(channelData);
        Assert.Equal("id-alice", data.RootElement.GetProperty("user_id").GetString());
        Assert.Equal("alice", data.RootElement.GetProperty("user_info").GetProperty("name").GetString());
        Assert.Equal(
            AuthClient.ExpectedAuth($"{AuthClient.SocketId}:presence-Project.1:{channelData}"),
            body.RootElement.GetProperty("auth").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("1234")]
    [InlineData("1234.")]
    [InlineData(".1234")]
    [InlineData("abc.def")]
    [InlineData("1234.1234\n")]
    [InlineData("1234.1234 ")]
    [InlineData("-1.1")]
    [InlineData("1234.1234:private-Project.2")]
    [InlineData("\u0661\u0662.\u0663")]
    [InlineData("123456789012345678901.1")] // issue 15: Pusher's socket ids are two bounded integers
    [InlineData("1.123456789012345678901")]
    public async Task A_malformed_socket_id_gets_400(string socketId)
    {
        using var response = await _client.AuthorizeAsync("private-Project.1", socketId: socketId);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Project.1")]
    [InlineData("public-channel")]
    [InlineData("private-Project.1 ")]
    [InlineData("private-Project.1\n")]
    [InlineData("private-Project.1#x")]
    [InlineData("private-Proj\u00e9ct.1")]
    [InlineData("private-Project.1:1234.1234")]
    [InlineData("private-../../etc/passwd")]
    public async Task A_malformed_channel_name_gets_400(string channel)
    {
        using var response = await _client.AuthorizeAsync(channel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_channel_name_longer_than_Pusher_allows_gets_400()
    {
        using var response = await _client.AuthorizeAsync("private-Project." + new string('1', 200));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Missing_or_repeated_fields_get_400()
    {
        using var missingSocket = await _client.PostFormAsync([new("channel_name", "private-Project.1")]);
        using var missingChannel = await _client.PostFormAsync([new("socket_id", "1.1")]);
        using var repeated = await _client.PostFormAsync(
            [new("socket_id", "1.1"), new("channel_name", "private-Project.1"), new("channel_name", "private-Project.2")]);

        Assert.Equal(HttpStatusCode.BadRequest, missingSocket.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missingChannel.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, repeated.StatusCode);
    }

    [Fact]
    public async Task A_body_that_is_not_a_form_gets_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/pusher/auth")
        {
            Content = new StringContent("""{"socket_id":"1.1","channel_name":"private-Project.1"}""", Encoding.UTF8, "application/json"),
        }.As("alice");
        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_oversized_or_broken_form_gets_400_not_500()
    {
        using var huge = await _client.PostFormAsync([new("socket_id", "1.1"), new("channel_name", "private-Project.1"), new("padding", new string('x', 100_000))]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/pusher/auth")
        {
            Content = new StringContent("socket_id=%ZZ%&channel_name=%%%", Encoding.UTF8, "application/x-www-form-urlencoded"),
        }.As("alice");
        using var broken = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
    }

    [Fact]
    public async Task Only_POST_is_answered()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/pusher/auth?socket_id=1.1&channel_name=private-Project.1").As("alice");
        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private static async Task<string?> AuthValueAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("auth").GetString();
    }
}

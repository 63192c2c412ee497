using System.Net.Http.Json;
using System.Text.Json;
using EfNotify.Sample.Web.Data;
using EfNotify.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Sample;

/// <summary>
/// The sample's notifications tested as an application tests its own (issue 14): EfNotify.Testing replaces only the
/// transport, so the sample's own endpoints, its interceptor, outbox and dispatcher run, with no Pusher server.
/// </summary>
public sealed class SampleNotificationTests : IAsyncLifetime
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"efnotify-sample-{Guid.NewGuid():N}.db");
    private WebApplicationFactory<Program> _app = null!;

    private InMemoryNotifications Notifications => _app.Services.GetRequiredService<InMemoryNotifications>();

    public async Task InitializeAsync()
    {
        _app = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseEnvironment("Development")
            .UseSetting("ConnectionStrings:Sample", $"Data Source={_database}")
            .UseSetting("EfNotify:PollingInterval", "00:00:00.100")
            .ConfigureTestServices(services => services.AddEfNotifyTesting()));
        await Notifications.DrainAsync(); // the sample's seed data notifies too
        Notifications.Clear();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm", ".efnotify-lock" })
        {
            File.Delete(_database + suffix);
        }
    }

    private async Task<HttpClient> SignInAsync(string user)
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = user, ["password"] = "demo" });
        (await client.PostAsync(new Uri("/login", UriKind.Relative), form)).EnsureSuccessStatusCode();
        return client;
    }

    private static async Task<int> FirstIdAsync(HttpClient client, string path)
        => (await client.GetFromJsonAsync<JsonElement>(new Uri(path, UriKind.Relative)))[0].GetProperty("id").GetInt32();

    [Fact]
    public async Task A_chat_message_notifies_its_room_with_the_author_as_notifier()
    {
        using var alice = await SignInAsync("alice");
        var room = await FirstIdAsync(alice, "/api/rooms");

        (await alice.PostAsJsonAsync(new Uri($"/api/rooms/{room}/messages", UriKind.Relative), new { text = "hello" })).EnsureSuccessStatusCode();

        var notification = await Notifications.WaitFor<Room>(room, "newMessage");
        Assert.Equal(($"private-Room.{room}", "added", "alice"), (notification.Channel, notification.Change, notification.By));
    }

    [Fact]
    public async Task A_refused_message_notifies_nobody()
    {
        using var alice = await SignInAsync("alice");
        var room = await FirstIdAsync(alice, "/api/rooms");

        var response = await alice.PostAsJsonAsync(new Uri($"/api/rooms/{room}/messages", UriKind.Relative), new { text = "" });

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        await Notifications.AssertNothingPublishedAsync();
    }

    [Fact]
    public async Task Moving_a_task_refreshes_the_board_list()
    {
        using var bob = await SignInAsync("bob");
        var task = await FirstIdAsync(bob, "/api/tasks");

        (await bob.PutAsJsonAsync(new Uri($"/api/tasks/{task}", UriKind.Relative), new { status = "done" })).EnsureSuccessStatusCode();

        var notification = await Notifications.WaitForList<TaskCard>("boardChanged");
        Assert.Equal(("TaskCard", "modified", "bob"), (notification.Entity, notification.Change, notification.By));
    }
}

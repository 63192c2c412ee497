using EfNotify.Pusher;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfNotify.Tests.Pusher;

public class PusherRegistrationTests
{
    private static readonly Dictionary<string, string?> ValidSettings = new()
    {
        ["EfNotify:Pusher:AppId"] = "app",
        ["EfNotify:Pusher:Key"] = "key",
        ["EfNotify:Pusher:Secret"] = "secret",
        ["EfNotify:Pusher:Host"] = "127.0.0.1",
        ["EfNotify:Pusher:Port"] = "6001",
        ["EfNotify:Pusher:UseTls"] = "false",
    };

    private static IConfiguration Configuration(Action<Dictionary<string, string?>>? change = null)
    {
        var settings = new Dictionary<string, string?>(ValidSettings);
        change?.Invoke(settings);
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    private static ServiceProvider Build(Action<EfNotifyBuilder> add)
    {
        var services = new ServiceCollection();
        add(new EfNotifyBuilder(services));
        return services.BuildServiceProvider(validateScopes: true);
    }

    [Fact]
    public void AddPusher_binds_the_EfNotify_Pusher_section()
    {
        using var provider = Build(b => b.AddPusher(Configuration()));

        var options = provider.GetRequiredService<IOptions<PusherOptions>>().Value;
        Assert.Equal(("app", "key", "secret", "127.0.0.1", 6001, false), (options.AppId, options.Key, options.Secret, options.Host, options.Port, options.UseTls));
        Assert.Equal(10_240, options.MaxEventDataBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), options.RequestTimeout);
        Assert.IsType<PusherNotificationTransport>(provider.GetRequiredService<INotificationTransport>());
        Assert.NotNull(provider.GetRequiredService<PusherChannelAuthorizer>());
    }

    [Theory]
    [InlineData("EfNotify:Pusher:Secret")]
    [InlineData("EfNotify:Pusher:Key")]
    [InlineData("EfNotify:Pusher:AppId")]
    public void A_missing_setting_is_named_in_the_message(string key)
    {
        using var provider = Build(b => b.AddPusher(Configuration(s => s.Remove(key))));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PusherOptions>>().Value);

        Assert.Contains($"{key} is required", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message.Replace("EfNotify:Pusher:Secret", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Neither_cluster_nor_host_is_refused()
    {
        using var provider = Build(b => b.AddPusher(Configuration(s => s.Remove("EfNotify:Pusher:Host"))));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PusherOptions>>().Value);

        Assert.Contains("Either EfNotify:Pusher:Cluster (hosted Pusher) or EfNotify:Pusher:Host (self-hosted server) is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_cluster_and_host_are_refused()
    {
        using var provider = Build(b => b.AddPusher(Configuration(s => s["EfNotify:Pusher:Cluster"] = "mt1")));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PusherOptions>>().Value);

        Assert.Contains("not both", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EfNotify:Pusher:Port", "0", "EfNotify:Pusher:Port must be between 1 and 65535")]
    [InlineData("EfNotify:Pusher:MaxEventDataBytes", "0", "EfNotify:Pusher:MaxEventDataBytes must be between 1")]
    [InlineData("EfNotify:Pusher:RequestTimeout", "00:00:00", "EfNotify:Pusher:RequestTimeout must be positive")]
    [InlineData("EfNotify:Pusher:Host", "http://127.0.0.1:6001", "EfNotify:Pusher:Host must be a host name or IP address")]
    public void A_bad_value_is_named_in_the_message(string key, string value, string message)
    {
        using var provider = Build(b => b.AddPusher(Configuration(s => s[key] = value)));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PusherOptions>>().Value);

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_section_is_named_in_the_message()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Realtime:AppId"] = "a", ["Realtime:Key"] = "k", ["Realtime:Cluster"] = "eu" })
            .Build();
        using var provider = Build(b => b.AddPusher(configuration, "Realtime"));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PusherOptions>>().Value);

        Assert.Contains("Realtime:Secret is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_runs_when_the_host_starts()
    {
        var builder = Host.CreateApplicationBuilder();
        new EfNotifyBuilder(builder.Services).AddPusher(o => { o.AppId = "a"; o.Key = "k"; o.Cluster = "mt1"; });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("EfNotify:Pusher:Secret is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPusher_twice_registers_each_service_once()
    {
        var services = new ServiceCollection();
        var builder = new EfNotifyBuilder(services);
        builder.AddPusher(o => { o.AppId = "a"; o.Key = "k"; o.Secret = "s"; o.Host = "localhost"; o.UseTls = false; });
        var countAfterOnce = services.Count;
        builder.AddPusher(o => o.Port = 6001);

        Assert.Equal(countAfterOnce + 1, services.Count); // only the second Configure callback
        Assert.Single(services, d => d.ServiceType == typeof(INotificationTransport));
        Assert.Single(services, d => d.ServiceType == typeof(PusherClient));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<PusherOptions>));

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<PusherOptions>>().Value;
        Assert.Equal(("a", 6001), (options.AppId, options.Port));
        Assert.NotNull(provider.GetRequiredService<PusherClient>());
    }

    [Fact]
    public void A_transport_registered_by_the_user_wins()
    {
        var services = new ServiceCollection();
        services.AddSingleton<INotificationTransport, NullTransport>();
        new EfNotifyBuilder(services).AddPusher(o => { o.AppId = "a"; o.Key = "k"; o.Secret = "s"; o.Cluster = "mt1"; });

        using var provider = services.BuildServiceProvider();
        Assert.IsType<NullTransport>(provider.GetRequiredService<INotificationTransport>());
    }

    [Fact]
    public void Spare_connections_are_at_most_as_many_as_the_dispatchers_requests_in_flight()
    {
        using (var defaults = Build(b => b.AddPusher(Configuration())))
        {
            Assert.Equal(new EfNotifyOptions().MaxRequestsInFlight, defaults.GetRequiredService<SpareConnections>().Capacity);
        }

        var services = new ServiceCollection();
        services.Configure<EfNotifyOptions>(o => o.MaxRequestsInFlight = 3);
        new EfNotifyBuilder(services).AddPusher(Configuration());
        using var configured = services.BuildServiceProvider(validateScopes: true);

        Assert.Equal(3, configured.GetRequiredService<SpareConnections>().Capacity);
    }

    private sealed class NullTransport : INotificationTransport
    {
        public int MaxBatchSize => 1;

        public int MaxEventDataBytes => 1;

        public Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

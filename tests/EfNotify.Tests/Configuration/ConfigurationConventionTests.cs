using EfNotify.Pusher;
using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfNotify.Tests.Configuration;

/// <summary>Issue 14: every package binds its own section of the application's configuration, and code wins.</summary>
public class ConfigurationConventionTests
{
    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDbContext<ShopContext>((sp, o) => o.UseSqlite("Data Source=:memory:").UseEfNotify(sp));
        return builder;
    }

    [Fact]
    public void AddEfNotify_binds_the_EfNotify_section_and_a_delegate_given_in_code_wins()
    {
        var builder = Builder(new() { ["EfNotify:ClaimBatchSize"] = "7", ["EfNotify:PollingInterval"] = "00:00:03" });
        builder.Services.AddEfNotify<ShopContext>(o => o.PollingInterval = TimeSpan.FromSeconds(2));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<EfNotifyOptions>>().Value;

        Assert.Equal((7, TimeSpan.FromSeconds(2)), (options.ClaimBatchSize, options.PollingInterval));
    }

    [Fact]
    public void AddEfNotify_with_a_section_of_another_name_binds_it_after_the_EfNotify_section()
    {
        var builder = Builder(new() { ["EfNotify:ClaimBatchSize"] = "7", ["Outbox:ClaimBatchSize"] = "9", ["EfNotify:MaxAttempts"] = "5" });
        builder.Services.AddEfNotify<ShopContext>(builder.Configuration.GetSection("Outbox"));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<EfNotifyOptions>>().Value;

        Assert.Equal((9, 5), (options.ClaimBatchSize, options.MaxAttempts));
    }

    [Fact]
    public void AddPusher_without_arguments_binds_the_EfNotify_Pusher_section_and_a_delegate_given_in_code_wins()
    {
        var builder = Builder(new()
        {
            ["EfNotify:Pusher:AppId"] = "app",
            ["EfNotify:Pusher:Key"] = "key",
            ["EfNotify:Pusher:Secret"] = "secret",
            ["EfNotify:Pusher:Cluster"] = "eu",
        });
        builder.Services.AddEfNotify<ShopContext>().AddPusher();
        builder.Services.AddEfNotify<ShopContext>().AddPusher(o => o.Key = "from code");
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<PusherOptions>>().Value;

        Assert.Equal(("app", "from code", "secret", "eu"), (options.AppId, options.Key, options.Secret, options.Cluster));
    }

    [Theory]
    [InlineData("ClaimBatchSize", "0", "between 1 and 10000")]
    [InlineData("MaxRequestsInFlight", "0", "between 1 and 64")] // issue 13
    [InlineData("MaxRequestsInFlight", "65", "between 1 and 64")]
    public async Task A_bad_dispatcher_setting_fails_at_start_up_named_by_its_key_once(string setting, string value, string expected)
    {
        var builder = Builder(new() { [$"EfNotify:{setting}"] = value });
        builder.Services.AddEfNotify<ShopContext>();
        builder.Services.AddEfNotify<ShopContext>();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(ex.Failures);
        Assert.StartsWith($"EfNotify:{setting} is invalid", failure, StringComparison.Ordinal);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_Pusher_setting_is_reported_once_at_start_up()
    {
        var builder = Builder(new() { ["EfNotify:Pusher:AppId"] = "app", ["EfNotify:Pusher:Key"] = "key", ["EfNotify:Pusher:Cluster"] = "eu" });
        builder.Services.AddEfNotify<ShopContext>().AddPusher();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(ex.Failures);
        Assert.StartsWith("EfNotify:Pusher:Secret is required", failure, StringComparison.Ordinal);
    }
}

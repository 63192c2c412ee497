using EfNotify.Diagnostics;
using EfNotify.Tests.Outbox;
using EfNotify.Tests.TestModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EfNotify.Tests.Health;

/// <summary>The health check follows the age of the oldest pending row and the dispatcher loop's heartbeat.</summary>
public class EfNotifyHealthCheckTests
{
    [Fact]
    public async Task The_report_is_degraded_and_then_unhealthy_as_the_oldest_pending_row_ages()
    {
        using var fixture = new ShopFixture(configure: s => s.AddHealthChecks().AddEfNotify());
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(fixture)).Status);
        await OutboxAdministrationTests.SaveOrdersAsync(fixture, 2, TimeSpan.FromSeconds(5));

        fixture.Time.Advance(TimeSpan.FromSeconds(20));
        var young = await CheckAsync(fixture);
        fixture.Time.Advance(TimeSpan.FromSeconds(10));
        var degraded = await CheckAsync(fixture);
        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        var unhealthy = await CheckAsync(fixture);

        Assert.Equal(HealthStatus.Healthy, young.Status);
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Equal(2L, degraded.Data["pending"]);
        Assert.Equal(35d, degraded.Data["oldest_pending_age_seconds"]);
        Assert.Equal(0L, degraded.Data["dead_letters"]);
        Assert.False(degraded.Data.ContainsKey("dispatcher_idle_seconds"));
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Equal(335d, unhealthy.Data["oldest_pending_age_seconds"]);
    }

    [Fact]
    public async Task Dead_letters_alone_leave_the_report_healthy_and_are_counted_in_its_data()
    {
        using var fixture = new ShopFixture(configure: s => s.AddHealthChecks().AddEfNotify());
        var ids = await OutboxAdministrationTests.SaveOrdersAsync(fixture, 1, TimeSpan.Zero);
        await OutboxAdministrationTests.DeadLetterAsync(fixture, ids[0], "refused");
        fixture.Time.Advance(TimeSpan.FromHours(1));

        var report = await CheckAsync(fixture);

        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(1L, report.Data["dead_letters"]);
    }

    [Fact]
    public async Task A_dispatcher_loop_that_stops_completing_iterations_is_unhealthy_until_it_completes_one_again()
    {
        using var fixture = new ShopFixture(configure: s => s.AddHealthChecks().AddEfNotify(configure: o => o.StallAfter = TimeSpan.FromSeconds(30)));
        var monitor = fixture.Services.GetRequiredService<OutboxMonitor>();
        monitor.DispatcherStarted(fixture.Time.GetUtcNow().UtcDateTime);

        fixture.Time.Advance(TimeSpan.FromSeconds(29));
        var starting = await CheckAsync(fixture);
        fixture.Time.Advance(TimeSpan.FromSeconds(2));
        var stalled = await CheckAsync(fixture);
        monitor.IterationCompleted(fixture.Time.GetUtcNow().UtcDateTime);
        var resumed = await CheckAsync(fixture);

        Assert.Equal(HealthStatus.Healthy, starting.Status);
        Assert.Equal(HealthStatus.Unhealthy, stalled.Status);
        Assert.Equal(31d, stalled.Data["dispatcher_idle_seconds"]);
        Assert.Contains("not completed an iteration", stalled.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, resumed.Status);
    }

    [Fact]
    public async Task The_failure_status_of_the_registration_replaces_unhealthy()
    {
        using var fixture = new ShopFixture(configure: s => s.AddHealthChecks().AddEfNotify(failureStatus: HealthStatus.Degraded));
        await OutboxAdministrationTests.SaveOrdersAsync(fixture, 1, TimeSpan.Zero);
        fixture.Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(fixture)).Status);
    }

    [Fact]
    public void Thresholds_out_of_order_fail_validation_with_a_message_naming_them()
    {
        using var fixture = new ShopFixture(configure: s => s.AddHealthChecks().AddEfNotify(configure: o => o.UnhealthyAfter = TimeSpan.FromSeconds(10)));

        var exception = Assert.Throws<OptionsValidationException>(
            () => fixture.Services.GetRequiredService<IOptionsMonitor<EfNotifyHealthCheckOptions>>().Get("efnotify"));

        Assert.Contains("UnhealthyAfter", exception.Message, StringComparison.Ordinal);
        Assert.Contains("DegradedAfter", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_threshold_fails_validation()
    {
        using var fixture = new ShopFixture(configure: s => s.AddHealthChecks().AddEfNotify(configure: o => o.StallAfter = TimeSpan.FromSeconds(-1)));

        var exception = Assert.Throws<OptionsValidationException>(
            () => fixture.Services.GetRequiredService<IOptionsMonitor<EfNotifyHealthCheckOptions>>().Get("efnotify"));

        Assert.Contains("StallAfter", exception.Message, StringComparison.Ordinal);
    }

    private static async Task<HealthReportEntry> CheckAsync(ShopFixture fixture)
        => (await fixture.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["efnotify"];
}

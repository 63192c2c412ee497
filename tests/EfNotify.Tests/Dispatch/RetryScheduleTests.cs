using EfNotify.Dispatch;
using EfNotify.Tests.TestModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Registry;

namespace EfNotify.Tests.Dispatch;

/// <summary>One delay formula for a request's retries, a row's persisted attempts, a pause and the loop; the pipeline is Polly's, by key.</summary>
public class RetryScheduleTests
{
    [Theory]
    [InlineData(200, 60_000, 0, 200)] // a request's first retry: the base delay
    [InlineData(200, 60_000, 1, 400)] // a row's first persisted attempt, and the first pause
    [InlineData(200, 60_000, 3, 1_600)]
    [InlineData(200, 60_000, 9, 60_000)] // capped by MaxBackoff
    [InlineData(200, 60_000, 10_000, 60_000)] // no overflow however many attempts
    [InlineData(0, 60_000, 2, 40)] // at least 10 ms to start from
    [InlineData(20, 500, 4, 320)]
    [InlineData(20, 500, 5, 500)]
    public void The_delay_doubles_from_the_base_delay_up_to_the_maximum(int baseMs, int maxMs, int exponent, int expectedMs)
    {
        var schedule = new RetrySchedule(TimeSpan.FromMilliseconds(baseMs), TimeSpan.FromMilliseconds(maxMs));

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), schedule.Delay(exponent));
    }

    [Fact]
    public async Task The_publish_pipeline_retries_transient_failures_after_the_schedules_delays()
    {
        var time = new FakeTimeProvider();
        using var services = Services(time, o => (o.MaxRetryAttempts, o.RetryBaseDelay, o.MaxBackoff) = (3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)));
        var pipeline = services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(EfNotifyResiliencePipelines.Publish);
        var attempts = new List<DateTimeOffset>();

        var run = pipeline.ExecuteAsync(
            _ =>
            {
                attempts.Add(time.GetUtcNow());
                return attempts.Count <= 3 ? throw new PublishException("Bad Gateway", 502, isTransient: true) : ValueTask.CompletedTask;
            }).AsTask();
        while (!run.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Yield();
        }

        await run;
        var schedule = new RetrySchedule(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        Assert.Equal([schedule.Delay(0), schedule.Delay(1), schedule.Delay(2)], attempts.Zip(attempts.Skip(1), (a, b) => b - a));
    }

    [Fact]
    public async Task A_refusal_is_not_retried_by_the_publish_pipeline()
    {
        using var services = Services(new FakeTimeProvider(), _ => { });
        var pipeline = services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(EfNotifyResiliencePipelines.Publish);
        var attempts = 0;

        await Assert.ThrowsAsync<PublishException>(() => pipeline.ExecuteAsync(
            _ =>
            {
                attempts++;
                throw new PublishException("Invalid channel name", 400, isTransient: false);
            }).AsTask());

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task An_application_replaces_the_publish_pipeline_by_registering_its_own_under_the_same_key_first()
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddResiliencePipeline(EfNotifyResiliencePipelines.Publish, builder => { }); // no retries at all
        services.AddEfNotify<ShopContext>(o => o.MaxRetryAttempts = 3);
        services.AddEfNotify<ShopContext>(); // calling it again keeps the application's pipeline
        using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(EfNotifyResiliencePipelines.Publish);
        var attempts = 0;

        await Assert.ThrowsAsync<PublishException>(() => pipeline.ExecuteAsync(
            _ =>
            {
                attempts++;
                throw new PublishException("Bad Gateway", 502, isTransient: true);
            }).AsTask());

        Assert.Equal(1, attempts);
    }

    private static ServiceProvider Services(TimeProvider time, Action<EfNotifyOptions> configure)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(time);
        services.AddEfNotify<ShopContext>(configure);
        return services.BuildServiceProvider();
    }
}

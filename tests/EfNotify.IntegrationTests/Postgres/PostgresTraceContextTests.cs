using System.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>Issue 14: on PostgreSQL the outbox row keeps the saving activity's trace context and the leader's claim reads it.</summary>
public sealed class PostgresTraceContextTests : PostgresDatabaseTest
{
    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_save_inside_an_activity_keeps_its_traceparent_and_the_leaders_claim_reads_it(bool async)
    {
        using var source = new ActivitySource("EfNotify.IntegrationTests.Trace." + Guid.NewGuid());
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var services = new ServiceCollection().AddLogging();
        services.AddEfNotify<BoardContext>(o => o.DispatcherEnabled = false);
        services.AddDbContext<BoardContext>((sp, o) => o.UseNpgsql(ConnectionString).UseEfNotify(sp));
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        await db.Database.EnsureCreatedAsync();

        ActivityTraceId trace;
        using (var request = source.StartActivity("POST /cards")!)
        {
            request.TraceStateString = "pg=1";
            trace = request.TraceId;
            db.Add(new Card { Title = "traced on PostgreSQL" });
            _ = async ? await db.SaveChangesAsync() : db.SaveChanges();
        }

        var claimed = await OutboxStore.ClaimAsync(db, owner: null, DateTime.UtcNow.AddMinutes(1), TimeSpan.FromSeconds(30), 10, [], CancellationToken.None);

        Assert.NotNull(LeaderCommands.For(db));
        var row = Assert.Single(claimed);
        Assert.True(ActivityContext.TryParse(row.TraceParent, row.TraceState, out var kept));
        Assert.Equal(trace, kept.TraceId);
        Assert.Equal("pg=1", row.TraceState);
    }
}

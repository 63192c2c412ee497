using System.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.Tests.TestModel;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Tests.Outbox;

/// <summary>
/// Issue 14: an outbox row keeps the W3C trace context of the activity that saved it, both claims read it back, and a
/// database made before the trace columns keeps working when its model leaves them out.
/// </summary>
/// <remarks>Not beside tests that listen to EfNotify's spans: a capture span would give a save outside a request a trace.</remarks>
[Collection(ActivityListenerCollection.Name)]
public sealed class OutboxTraceTests : IDisposable
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly ActivitySource _source = new("EfNotify.Tests.Trace." + Guid.NewGuid());
    private readonly ActivityListener _listener;

    public OutboxTraceTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s == _source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public static TheoryData<bool> Async => new() { false, true };

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_save_inside_a_request_keeps_its_traceparent_and_tracestate_with_the_row(bool async)
    {
        using var fixture = new ShopFixture();
        using (var request = _source.StartActivity("POST /orders")!)
        {
            request.TraceStateString = "vendor=abc,other=1";
            using var db = fixture.CreateContext();
            db.Orders.Add(new Order { Title = "traced" });
            await Save(db, async);

            var row = Assert.Single(fixture.Rows());
            Assert.True(ActivityContext.TryParse(row.TraceParent, row.TraceState, out var kept), $"'{row.TraceParent}' is a W3C traceparent");
            Assert.Equal(request.TraceId, kept.TraceId);
            Assert.Equal("vendor=abc,other=1", row.TraceState);
        }
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_save_outside_any_activity_keeps_no_trace_context_and_a_long_tracestate_is_left_out(bool async)
    {
        using var fixture = new ShopFixture();
        using (var db = fixture.CreateContext())
        {
            db.Orders.Add(new Order { Title = "untraced" });
            await Save(db, async);
        }

        using (var request = _source.StartActivity("POST /orders")!)
        {
            request.TraceStateString = "vendor=" + new string('x', 300);
            using var db = fixture.CreateContext();
            db.Orders.Add(new Order { Title = "long state" });
            await Save(db, async);
        }

        var rows = fixture.Rows();
        Assert.Null(rows[0].TraceParent);
        Assert.Null(rows[0].TraceState);
        Assert.StartsWith("00-", rows[1].TraceParent, StringComparison.Ordinal);
        Assert.Null(rows[1].TraceState);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("instance-1")]
    public async Task The_leaders_SQL_and_the_leased_claim_read_the_trace_context_and_rows_of_earlier_versions_read_none(string? owner)
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        await using var db = new TracedContext(connection);
        db.Database.EnsureCreated();
        const string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        db.AddRange(
            new OutboxMessage { CreatedAt = Now, NextAttemptAt = Now, Payload = "earlier version", Count = 1 },
            new OutboxMessage { CreatedAt = Now, NextAttemptAt = Now, Payload = "traced", Count = 1, TraceParent = parent, TraceState = "a=b" });
        db.SaveChanges();

        var claimed = await OutboxStore.ClaimAsync(db, owner, Now, TimeSpan.FromSeconds(30), 10, [], CancellationToken.None);

        Assert.Equal([(null, null), (parent, "a=b")], claimed.Select(r => (r.TraceParent, r.TraceState)));
        Assert.Contains("\"TraceParent\"", LeaderCommands.For(db)!.ClaimSql(10, []), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_database_made_before_the_trace_columns_keeps_saving_and_claiming_when_the_model_ignores_them(bool async)
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        var services = new ServiceCollection().AddLogging();
        services.AddEfNotify<UntracedContext>(o => o.DispatcherEnabled = false);
        services.AddScoped(sp => new UntracedContext(connection, sp));
        await using var provider = services.BuildServiceProvider();
        using (var scope = provider.CreateScope())
        {
            scope.ServiceProvider.GetRequiredService<UntracedContext>().Database.EnsureCreated();
        }

        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT group_concat(name) FROM pragma_table_info('EfNotifyOutbox')";
        Assert.DoesNotContain("Trace", (string)columns.ExecuteScalar()!, StringComparison.Ordinal);

        using (_source.StartActivity("POST /orders"))
        using (var scope = provider.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<UntracedContext>();
            db.Add(new Order { Title = "old database" });
            await Save(db, async);
        }

        using (var scope = provider.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<UntracedContext>();
            var led = await OutboxStore.ClaimAsync(db, null, Now.AddYears(1), TimeSpan.FromSeconds(30), 10, [], CancellationToken.None);
            var leased = await OutboxStore.ClaimAsync(db, "instance-1", Now.AddYears(1), TimeSpan.FromSeconds(30), 10, [], CancellationToken.None);
            Assert.Equal(1, Assert.Single(led).Count);
            Assert.Null(Assert.Single(leased).TraceParent);
        }
    }

    private static Task Save(DbContext db, bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());

    /// <summary>An outbox and one notified entity.</summary>
    private class TracedContext(SqliteConnection connection, IServiceProvider? services = null) : DbContext
    {
        protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder)
        {
            optionsBuilder.UseSqlite(connection);
            if (services is not null)
            {
                optionsBuilder.UseEfNotify(services);
            }
        }

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Order>();
            modelBuilder.AddEfNotifyOutbox();
        }
    }

    /// <summary>The model of a database made before the trace columns: it leaves them out.</summary>
    private sealed class UntracedContext(SqliteConnection connection, IServiceProvider services) : TracedContext(connection, services)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            base.OnModelCreating(modelBuilder);
            modelBuilder.Entity<OutboxMessage>().Ignore(m => m.TraceParent).Ignore(m => m.TraceState);
        }
    }
}

/// <summary>Test classes whose results depend on who listens to EfNotify's activity source.</summary>
[CollectionDefinition(Name)]
public sealed class ActivityListenerCollection
{
    public const string Name = "Activity listeners";
}

using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Tests.Outbox;

/// <summary>Dead letters are listed, replayed in place and counted; the backlog reports its oldest pending row.</summary>
public class OutboxAdministrationTests
{
    [Fact]
    public async Task The_backlog_counts_pending_and_dead_lettered_rows_and_ages_the_oldest_pending_one()
    {
        using var fixture = new ShopFixture();
        var start = fixture.Time.GetUtcNow().UtcDateTime;
        var ids = await SaveOrdersAsync(fixture, 3, TimeSpan.FromSeconds(10));
        await DeadLetterAsync(fixture, ids[0], "401: invalid signature");
        fixture.Time.Advance(TimeSpan.FromSeconds(10));

        var backlog = await Administration(fixture).GetBacklogAsync();

        Assert.Equal(2, backlog.PendingCount);
        Assert.Equal(1, backlog.DeadLetterCount);
        Assert.Equal(start.AddSeconds(10), backlog.OldestPendingCreatedAt);
        Assert.Equal(DateTimeKind.Utc, backlog.OldestPendingCreatedAt!.Value.Kind);
        Assert.Equal(TimeSpan.FromSeconds(20), backlog.OldestPendingAge);
        Assert.Equal(fixture.Time.GetUtcNow().UtcDateTime, backlog.MeasuredAt);
    }

    [Fact]
    public async Task An_empty_outbox_has_no_backlog()
    {
        using var fixture = new ShopFixture();

        var backlog = await Administration(fixture).GetBacklogAsync();

        Assert.Equal(0, backlog.PendingCount);
        Assert.Equal(0, backlog.DeadLetterCount);
        Assert.Null(backlog.OldestPendingCreatedAt);
        Assert.Equal(TimeSpan.Zero, backlog.OldestPendingAge);
    }

    [Fact]
    public async Task Dead_letters_are_listed_in_id_order_a_page_at_a_time_with_their_reason_and_channels()
    {
        using var fixture = new ShopFixture();
        var ids = await SaveOrdersAsync(fixture, 5, TimeSpan.FromSeconds(1));
        foreach (var id in ids.Where((_, i) => i != 2))
        {
            await DeadLetterAsync(fixture, id, $"refused {id}");
        }

        var administration = Administration(fixture);
        var first = await administration.ListDeadLettersAsync(take: 2);
        var second = await administration.ListDeadLettersAsync(take: 2, afterId: first[^1].Id);
        var third = await administration.ListDeadLettersAsync(take: 2, afterId: second[^1].Id);

        Assert.Equal([ids[0], ids[1], ids[3], ids[4]], first.Concat(second).Select(d => d.Id));
        Assert.Empty(third);
        var dead = first[0];
        Assert.Equal($"refused {ids[0]}", dead.Reason);
        Assert.Equal(1, dead.Count);
        Assert.Equal(3, dead.Attempts);
        Assert.Equal(DateTimeKind.Utc, dead.CreatedAt.Kind);
        var order = fixture.Notifications()[0];
        Assert.Equal([new DeadLetterEvent(order.Channel, "changed")], dead.Events);
    }

    [Fact]
    public async Task Listing_rejects_a_page_size_out_of_range()
    {
        using var fixture = new ShopFixture();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Administration(fixture).ListDeadLettersAsync(take: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Administration(fixture).ListDeadLettersAsync(take: 1001));
    }

    [Fact]
    public async Task Replaying_a_dead_letter_makes_it_pending_and_due_now_in_place_keeping_its_reason_and_wakes_the_dispatcher()
    {
        using var fixture = new ShopFixture();
        var ids = await SaveOrdersAsync(fixture, 2, TimeSpan.FromSeconds(1));
        await DeadLetterAsync(fixture, ids[0], "413: too large");
        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        await DrainSignalAsync(fixture);

        var replayed = await Administration(fixture).ReplayAsync([ids[0], ids[1], 999_999]);

        Assert.Equal(1, replayed);
        var row = fixture.Rows().Single(r => r.Id == ids[0]);
        Assert.Equal(OutboxStatus.Pending, row.Status);
        Assert.Equal(0, row.Attempts);
        Assert.Equal(fixture.Time.GetUtcNow().UtcDateTime, row.NextAttemptAt);
        Assert.Equal("413: too large", row.LastError);
        Assert.Null(row.LockedBy);
        Assert.Equal(2, fixture.Rows().Count);
        Assert.True(await fixture.Signal.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task Replaying_rows_that_are_not_dead_lettered_changes_nothing_and_does_not_wake_the_dispatcher()
    {
        using var fixture = new ShopFixture();
        var ids = await SaveOrdersAsync(fixture, 1, TimeSpan.FromSeconds(1));
        var before = fixture.Rows().Single();
        await DrainSignalAsync(fixture);

        Assert.Equal(0, await Administration(fixture).ReplayAsync(ids));
        Assert.Equal(0, await Administration(fixture).ReplayAsync([]));

        Assert.Equal(before.NextAttemptAt, fixture.Rows().Single().NextAttemptAt);
        Assert.False(await fixture.Signal.WaitAsync(TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task Replaying_all_makes_every_dead_letter_pending()
    {
        using var fixture = new ShopFixture();
        var ids = await SaveOrdersAsync(fixture, 3, TimeSpan.FromSeconds(1));
        foreach (var id in ids)
        {
            await DeadLetterAsync(fixture, id, "refused");
        }

        Assert.Equal(3, await Administration(fixture).ReplayAllAsync());

        Assert.All(fixture.Rows(), r => Assert.Equal(OutboxStatus.Pending, r.Status));
        var backlog = await Administration(fixture).GetBacklogAsync();
        Assert.Equal(3, backlog.PendingCount);
        Assert.Equal(0, backlog.DeadLetterCount);
    }

    [Fact]
    public void A_payload_that_is_not_json_lists_no_events()
    {
        Assert.Empty(EfNotify.Outbox.OutboxAdministration<ShopContext>.Summarize("not json"));
        Assert.Empty(EfNotify.Outbox.OutboxAdministration<ShopContext>.Summarize("{}"));
    }

    internal static IOutboxAdministration Administration(ShopFixture fixture) => fixture.Services.GetRequiredService<IOutboxAdministration>();

    /// <summary>Saves one order per transaction, <paramref name="step"/> apart; returns the outbox row ids.</summary>
    internal static async Task<List<long>> SaveOrdersAsync(ShopFixture fixture, int count, TimeSpan step)
    {
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                fixture.Time.Advance(step);
            }

            using var db = fixture.CreateContext();
            db.Orders.Add(new Order { Title = $"order-{Guid.NewGuid():N}" });
            await db.SaveChangesAsync();
        }

        return fixture.Rows().Select(r => r.Id).TakeLast(count).ToList();
    }

    /// <summary>Puts a row in the state the dispatcher leaves a dead letter in.</summary>
    internal static async Task DeadLetterAsync(ShopFixture fixture, long id, string reason)
    {
        using var db = fixture.CreateContext();
        await db.Set<OutboxMessage>().Where(m => m.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, OutboxStatus.DeadLettered)
            .SetProperty(m => m.Attempts, 3)
            .SetProperty(m => m.LastError, reason));
    }

    private static async Task DrainSignalAsync(ShopFixture fixture)
        => await fixture.Signal.WaitAsync(TimeSpan.FromMilliseconds(1), TimeProvider.System, CancellationToken.None);
}

using EfNotify.Dispatch;
using EfNotify.Tests.Outbox;
using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Tests.Dispatch;

/// <summary>The claim of a leading dispatcher is a plain read; other instances claim under row leases.</summary>
public class OutboxStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_leader_claims_without_leasing_and_skips_rows_not_yet_recorded()
    {
        using var fixture = new ShopFixture();
        var ids = await OutboxAdministrationTests.SaveOrdersAsync(fixture, 4, TimeSpan.Zero);
        using var db = fixture.CreateContext();
        var now = fixture.Time.GetUtcNow().UtcDateTime;

        var claimed = await OutboxStore.ClaimAsync(db, owner: null, now, Lease, batchSize: 10, excluded: [ids[0], ids[2]], CancellationToken.None);

        Assert.Equal([ids[1], ids[3]], claimed.Select(r => r.Id));
        Assert.All(fixture.Rows(), r => Assert.Null(r.LockedBy)); // no write: the publishing path waits for no lock
    }

    [Fact]
    public async Task An_instance_without_leadership_leases_what_it_claims_and_another_cannot_take_it()
    {
        using var fixture = new ShopFixture();
        var ids = await OutboxAdministrationTests.SaveOrdersAsync(fixture, 3, TimeSpan.Zero);
        using var db = fixture.CreateContext();
        var now = fixture.Time.GetUtcNow().UtcDateTime;

        var first = await OutboxStore.ClaimAsync(db, "a", now, Lease, batchSize: 2, excluded: [], CancellationToken.None);
        var second = await OutboxStore.ClaimAsync(db, "b", now, Lease, batchSize: 10, excluded: [], CancellationToken.None);

        Assert.Equal(ids.Take(2), first.Select(r => r.Id));
        Assert.Equal([ids[2]], second.Select(r => r.Id));
        Assert.Equal(["a", "a", "b"], fixture.Rows().Select(r => r.LockedBy));
    }

    [Fact]
    public async Task Marking_delivered_as_leader_ignores_leases_and_as_owner_only_touches_its_own()
    {
        using var fixture = new ShopFixture();
        var ids = await OutboxAdministrationTests.SaveOrdersAsync(fixture, 2, TimeSpan.Zero);
        using var db = fixture.CreateContext();
        var now = fixture.Time.GetUtcNow().UtcDateTime;
        await OutboxStore.ClaimAsync(db, "a", now, Lease, batchSize: 10, excluded: [], CancellationToken.None);

        var byOther = await OutboxStore.MarkDeliveredAsync(db, "b", ids, now, CancellationToken.None);
        var byLeader = await OutboxStore.MarkDeliveredAsync(db, owner: null, ids, now, CancellationToken.None);

        Assert.Equal(0, byOther);
        Assert.Equal(2, byLeader);
        Assert.All(fixture.Rows(), r => Assert.Equal(OutboxStatus.Delivered, r.Status));
    }

    [Fact]
    public async Task Under_row_leases_one_cleanup_at_a_time_deletes_delivered_rows_past_their_retention()
    {
        using var fixture = new ShopFixture();
        var ids = await OutboxAdministrationTests.SaveOrdersAsync(fixture, 4, TimeSpan.Zero);
        using var db = fixture.CreateContext();
        var now = fixture.Time.GetUtcNow().UtcDateTime;
        await OutboxStore.MarkDeliveredAsync(db, owner: null, ids.Take(3).ToList(), now, CancellationToken.None);
        var cutoff = now.AddTicks(1);

        var first = await OutboxStore.TryTakeCleanupTurnAsync(db, "cleanup-a", now, cutoff, Lease, CancellationToken.None);
        var second = await OutboxStore.TryTakeCleanupTurnAsync(db, "cleanup-b", now, cutoff, Lease, CancellationToken.None);
        var deleted = await OutboxStore.DeleteDeliveredAsync(db, cutoff, batchSize: 1, CancellationToken.None, first);
        var afterwards = await OutboxStore.TryTakeCleanupTurnAsync(db, "cleanup-b", now, cutoff, Lease, CancellationToken.None);

        Assert.Equal(ids[0], first);
        Assert.Null(second); // the other instance lets it clean up
        Assert.Equal(3, deleted);
        Assert.Equal([ids[3]], fixture.Rows().Select(r => r.Id)); // the pending row stays
        Assert.Null(afterwards); // nothing left to delete
    }
}

using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Tests.Capture;

/// <summary>
/// Issue 13: a save whose keys are all known before it is captured before its commands run (appended to its first command
/// where a round trip costs something, see PostgresRoundTripTests); one that then fails on a concurrency conflict commits
/// neither its changes nor its row. A save of one row on PostgreSQL, which goes without a transaction: PostgresOneTripConflictTests.
/// </summary>
public class ConflictingSaveCaptureTests
{
    public static TheoryData<bool> Async => new() { false, true };

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_save_that_conflicts_after_its_first_command_commits_no_row(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var kept = new Order { Title = "kept" };
        var gone = new Order { Title = "gone" };
        db.AddRange(kept, gone);
        await Save(db, async);
        using (var other = fixture.CreateContext())
        {
            other.Orders.Remove(other.Orders.Single(o => o.Id == gone.Id));
            await other.SaveChangesAsync();
        }

        kept.Total = 1;
        gone.Total = 2; // no row any more: EF Core's conflict ends the save
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => Save(db, async));

        Assert.Equal(0m, fixture.CreateContext().Orders.Single(o => o.Id == kept.Id).Total);
        Assert.Equal(
            [($"private-Order.{kept.Id}", "added"), ($"private-Order.{gone.Id}", "added"), ($"private-Order.{gone.Id}", "deleted")],
            fixture.Notifications().Select(n => (n.Channel, n.Data.Change)));
    }

    private static Task Save(DbContext db, bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());
}

using System.Globalization;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// One seeded random sequence of operations on one context: begin, saves (inserts, updates, deletes, <c>Notify</c>),
/// savepoints, rollbacks to them, releases, concurrency conflicts, cancelled saves, saves another interceptor refuses,
/// commits, rollbacks and disposals. Each is done for real and told to the <see cref="UnitOfWorkModel"/>.
/// </summary>
public sealed partial class UnitOfWorkRun(BoardContext db, int seed, RefusingInterceptor refusing)
{
    private readonly Random _random = new(seed);
    private readonly List<string> _log = [];
    private IDbContextTransaction? _transaction;
    private int _step;
    private int _savepoints;

    public UnitOfWorkModel Model { get; } = new();

    /// <summary>Every card id this sequence saw: the database's final state is compared on these.</summary>
    public HashSet<int> Seen { get; } = [];

    public string Log => string.Join(", ", _log);

    public async Task RunAsync()
    {
        await SaveAsync(inserts: 3);
        for (var steps = _random.Next(4, 13); steps > 0; steps--)
        {
            await StepAsync(_random.Next(100));
            db.ChangeTracker.Clear(); // EF keeps no undo of its own tracking: every step starts from the database
        }

        if (_transaction is not null)
        {
            await EndAsync(_random.Next(3));
        }
    }

    private Task StepAsync(int roll) => (Model.InTransaction, roll) switch
    {
        (false, < 20) => BeginAsync(),
        (false, < 55) => SaveAsync(),
        (false, < 63) => ConflictAsync(),
        (false, < 70) => CancelAsync(),
        (false, < 77) => RefusedAsync(),
        (false, < 90) => NotifyAsync(),
        (false, _) => SaveAsync(),
        (true, < 28) => SaveAsync(),
        (true, < 34) => ConflictAsync(),
        (true, < 39) => CancelAsync(),
        (true, < 44) => RefusedAsync(),
        (true, < 52) => NotifyAsync(),
        (true, < 62) => SavepointAsync(),
        (true, < 72) => Model.Savepoints.Count > 0 ? RollbackToAsync() : SavepointAsync(),
        (true, < 77) => Model.Savepoints.Count > 0 ? ReleaseAsync() : SaveAsync(),
        (true, < 87) => EndAsync(0),
        (true, < 93) => EndAsync(1),
        (true, _) => EndAsync(2),
    };

    private async Task BeginAsync()
    {
        _log.Add("begin");
        _transaction = Async() ? await db.Database.BeginTransactionAsync() : db.Database.BeginTransaction();
        Model.Begin();
    }

    private async Task SaveAsync(int? inserts = null)
    {
        var (changes, rowsAfter) = await ChangeAsync(inserts ?? _random.Next(4), exclude: null);
        await MaybeNotifyAsync();
        var async = Async();
        _log.Add($"save({Describe(changes)}{(async ? ", async" : "")})");
        await Save(async);
        Model.SaveSucceeded(Apply(rowsAfter, changes), changes.Select(c => c.Note()));
    }

    private async Task ConflictAsync()
    {
        if (Model.Rows.Count == 0)
        {
            await SaveAsync(inserts: 1);
            return;
        }

        var id = Pick(Model.Rows.Keys, exclude: null)!.Value;
        var card = await db.Cards.SingleAsync(c => c.Id == id);
        await db.Database.ExecuteSqlAsync($"DELETE FROM \"Cards\" WHERE \"Id\" = {id}");
        Model.RawDelete(id);
        card.Notes = Stamp();
        var (changes, _) = await ChangeAsync(_random.Next(3), exclude: id);
        await MaybeNotifyAsync();
        var async = Async();
        _log.Add($"conflict(#{id}, {Describe(changes)}{(async ? ", async" : "")})");
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => Save(async));
        Model.SaveFailed();
    }

    private async Task CancelAsync()
    {
        var (changes, _) = await ChangeAsync(1 + _random.Next(3), exclude: null);
        await MaybeNotifyAsync();
        _log.Add($"cancel({Describe(changes)})");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.SaveChangesAsync(new CancellationToken(canceled: true)));
        Model.SaveFailed();
    }

    private async Task RefusedAsync()
    {
        var (changes, _) = await ChangeAsync(_random.Next(4), exclude: null);
        await MaybeNotifyAsync();
        var async = Async();
        _log.Add($"refused({Describe(changes)}{(async ? ", async" : "")})");
        refusing.Refuse = true;
        try
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => Save(async));
        }
        finally
        {
            refusing.Refuse = false;
        }

        Model.SaveFailed();
    }

    private async Task NotifyAsync()
    {
        if (Model.Rows.Count > 0)
        {
            await NotifyOneAsync();
        }
    }

    private async Task SavepointAsync()
    {
        var name = "s" + (++_savepoints).ToString(CultureInfo.InvariantCulture);
        _log.Add("savepoint " + name);
        await Do(() => _transaction!.CreateSavepointAsync(name), () => _transaction!.CreateSavepoint(name));
        Model.Savepoint(name);
    }

    private async Task RollbackToAsync()
    {
        var name = Model.Savepoints[_random.Next(Model.Savepoints.Count)];
        _log.Add("rollback to " + name);
        await Do(() => _transaction!.RollbackToSavepointAsync(name), () => _transaction!.RollbackToSavepoint(name));
        Model.RollbackTo(name);
    }

    private async Task ReleaseAsync()
    {
        var name = Model.Savepoints[_random.Next(Model.Savepoints.Count)];
        _log.Add("release " + name);
        await Do(() => _transaction!.ReleaseSavepointAsync(name), () => _transaction!.ReleaseSavepoint(name));
        Model.Release(name);
    }

    /// <param name="how">0 commit, 1 rollback, 2 dispose without either.</param>
    private async Task EndAsync(int how)
    {
        var transaction = _transaction!;
        _transaction = null;
        _log.Add(how switch { 0 => "commit", 1 => "rollback", _ => "dispose" });
        if (how == 0)
        {
            await Do(() => transaction.CommitAsync(), transaction.Commit);
            Model.Commit();
        }
        else
        {
            if (how == 1)
            {
                await Do(() => transaction.RollbackAsync(), transaction.Rollback);
            }

            Model.Rollback();
        }

        await Do(() => transaction.DisposeAsync().AsTask(), transaction.Dispose);
    }

    private string Stamp() => $"{seed}.{++_step}";

    private bool Async() => _random.Next(2) == 0;

    private Task Save(bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());

    private Task Do(Func<Task> async, Action sync)
    {
        if (Async())
        {
            return async();
        }

        sync();
        return Task.CompletedTask;
    }

    private static string Describe(List<Change> changes)
        => string.Join(' ', changes.Select(c => c.Kind[0] + (c.Kind == "added" ? "" : "#" + c.Card.Id.ToString(CultureInfo.InvariantCulture))));
}

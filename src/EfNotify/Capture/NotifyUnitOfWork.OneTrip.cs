using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Update;

namespace EfNotify.Capture;

/// <summary>
/// The unit of work's side of a save that goes in one round trip (see <see cref="OneTripSave"/>): an implicit save on
/// PostgreSQL that changes one row, which EF Core sends as a single command without a transaction. Every other implicit
/// save is made transactional, as before.
/// </summary>
/// <remarks>
/// Whether the save changes one row is known only after EF Core detected its changes, which it does after
/// <c>SavingChanges</c>: the decision taken then is taken again when the change tracker reports that it detected all
/// changes, the last thing before EF Core chooses whether to open a transaction.
/// </remarks>
internal sealed partial class NotifyUnitOfWork
{
    private EventHandler<DetectedChangesEventArgs>? _onDetected;
    private ChangeTracker? _watched;
    private IUpdateEntry? _oneTripEntry;
    private bool _oneTrip;
    private int _oneTripWritten;

    /// <summary>
    /// At the start of an implicit save that EF Core would send without a transaction if it has one statement: whether it
    /// may (the rest of this class then decides and keeps deciding); false when it must be made transactional.
    /// </summary>
    private bool StartOneTrip(DbContext context)
    {
        if (context.Database.ProviderName != SetBasedStatement.PostgresProvider || _queued.Count > 0
            || context.Model.FindEntityType(typeof(OutboxMessage)) is null || States(context).ChangedCount > 1)
        {
            return false; // detecting changes only ever adds changed entries: more than one now is more than one then
        }

        PlanOneTrip(context);
        if (context.ChangeTracker.AutoDetectChangesEnabled)
        {
            _watched = context.ChangeTracker;
            _watched.DetectedAllChanges += _onDetected ??= OnDetectedAllChanges;
        }

        return true;
    }

    /// <summary>
    /// At the save's command, sent without a transaction: the notifications to append to it, or null for none.
    /// </summary>
    /// <exception cref="InvalidOperationException">The command is not the one row EfNotify planned for.</exception>
    public List<PendingNotification>? TakeOneTrip(DbContext context, CaptureEnvironment environment, out IUpdateEntry entry)
    {
        entry = null!;
        if (_save != SaveKind.Implicit)
        {
            return null;
        }

        if (!_oneTrip || _oneTripEntry is null || States(context).ChangedCount != 1 || ChangeCapture.Kind(_oneTripEntry.EntityState) is not { } kind)
        {
            throw new InvalidOperationException(
                $"EfNotify: EF Core saves this {context.GetType().Name} change without a transaction, but it is not the single row EfNotify "
                + "planned the save for, so its notifications could not commit atomically with it. Was an entity changed by an interceptor "
                + "after EfNotify's? Set Database.AutoTransactionBehavior = AutoTransactionBehavior.Always for such saves.");
        }

        entry = _oneTripEntry;
        _saving.Clear();
        ChangeCapture.Entry(entry, kind, NotifyModel.Get(context.Model), environment.Context(), _saving);
        return _saving.Count > 0 ? _saving : null;
    }

    /// <summary>The notifications <see cref="TakeOneTrip"/> gave are in the command: they commit with it, reported after the save.</summary>
    public void AppendedOneTrip(int count)
    {
        _saving.Clear();
        _oneTripWritten = count;
    }

    /// <summary>Ends the save's one-trip state; returns how many notifications its command committed (0: none).</summary>
    private int EndOneTrip()
    {
        if (_watched is not null)
        {
            _watched.DetectedAllChanges -= _onDetected;
            _watched = null;
        }

        var written = _oneTripWritten;
        _oneTripEntry = null;
        _oneTrip = false;
        _oneTripWritten = 0;
        return written;
    }

    private void OnDetectedAllChanges(object? sender, DetectedChangesEventArgs e)
    {
        if (_save == SaveKind.Implicit && sender is ChangeTracker tracker)
        {
            PlanOneTrip(tracker.Context);
        }
    }

    /// <summary>One changed row that fits: EF Core decides (no transaction for one statement); otherwise a transaction, as before.</summary>
    private void PlanOneTrip(DbContext context)
    {
        var states = States(context);
        _oneTripEntry = states.ChangedCount == 1 ? Changed(states) : null;
        _oneTrip = _oneTripEntry is not null && OneTripSave.Fits(_oneTripEntry, NotifyModel.Get(context.Model), context);
        if (_oneTrip)
        {
            RestoreBehavior(context);
        }
        else if (_restoreBehavior is null)
        {
            _restoreBehavior = context.Database.AutoTransactionBehavior;
            context.Database.AutoTransactionBehavior = AutoTransactionBehavior.Always;
        }
    }

    private static IUpdateEntry? Changed(IStateManager states)
    {
        foreach (var entry in states.Entries)
        {
            if (entry.EntityState is EntityState.Added or EntityState.Modified or EntityState.Deleted)
            {
                return entry;
            }
        }

        return null;
    }

    private static IStateManager States(DbContext context) => context.GetService<IStateManager>();
}

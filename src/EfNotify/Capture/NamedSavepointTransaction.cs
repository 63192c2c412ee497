using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Capture;

/// <summary>
/// EF Core's transaction, telling EfNotify the name of the savepoint it is creating, rolling back to or releasing.
/// EF's savepoint interception hooks do not carry the name, and rolling back to the first of two savepoints must undo
/// what came after either.
/// </summary>
internal sealed class NamedSavepointTransaction(
    IRelationalConnection connection, DbTransaction transaction, Guid transactionId,
    IDiagnosticsLogger<DbLoggerCategory.Database.Transaction> logger, bool transactionOwned, ISqlGenerationHelper sqlGenerationHelper)
    : RelationalTransaction(connection, transaction, transactionId, logger, transactionOwned, sqlGenerationHelper)
{
    private string? _savepoint;

    /// <summary>The savepoint the context's transaction is working on now, or null when EfNotify cannot tell.</summary>
    public static string? NameIn(DbContext context) => (context.Database.CurrentTransaction as NamedSavepointTransaction)?._savepoint;

    public override void CreateSavepoint(string name) => Named(name, () => base.CreateSavepoint(name));

    public override Task CreateSavepointAsync(string name, CancellationToken cancellationToken = default)
        => NamedAsync(name, () => base.CreateSavepointAsync(name, cancellationToken));

    public override void RollbackToSavepoint(string name) => Named(name, () => base.RollbackToSavepoint(name));

    public override Task RollbackToSavepointAsync(string name, CancellationToken cancellationToken = default)
        => NamedAsync(name, () => base.RollbackToSavepointAsync(name, cancellationToken));

    public override void ReleaseSavepoint(string name) => Named(name, () => base.ReleaseSavepoint(name));

    public override Task ReleaseSavepointAsync(string name, CancellationToken cancellationToken = default)
        => NamedAsync(name, () => base.ReleaseSavepointAsync(name, cancellationToken));

    private void Named(string name, Action operation)
    {
        _savepoint = name;
        try
        {
            operation();
        }
        finally
        {
            _savepoint = null;
        }
    }

    private async Task NamedAsync(string name, Func<Task> operation)
    {
        _savepoint = name;
        try
        {
            await operation().ConfigureAwait(false);
        }
        finally
        {
            _savepoint = null;
        }
    }
}

/// <summary>Creates <see cref="NamedSavepointTransaction"/>s where the provider uses EF Core's own transaction type.</summary>
internal sealed class NamedSavepointTransactionFactory(RelationalTransactionFactoryDependencies dependencies) : RelationalTransactionFactory(dependencies)
{
    public override RelationalTransaction Create(
        IRelationalConnection connection, DbTransaction transaction, Guid transactionId,
        IDiagnosticsLogger<DbLoggerCategory.Database.Transaction> logger, bool transactionOwned)
        => new NamedSavepointTransaction(connection, transaction, transactionId, logger, transactionOwned, Dependencies.SqlGenerationHelper);
}

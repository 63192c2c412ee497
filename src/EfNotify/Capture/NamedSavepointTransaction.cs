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

    public override void CreateSavepoint(string name)
    {
        _savepoint = name;
        try
        {
            base.CreateSavepoint(name);
        }
        finally
        {
            _savepoint = null;
        }
    }

    public override async Task CreateSavepointAsync(string name, CancellationToken cancellationToken = default)
    {
        _savepoint = name;
        try
        {
            await base.CreateSavepointAsync(name, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _savepoint = null;
        }
    }

    public override void RollbackToSavepoint(string name)
    {
        _savepoint = name;
        try
        {
            base.RollbackToSavepoint(name);
        }
        finally
        {
            _savepoint = null;
        }
    }

    public override async Task RollbackToSavepointAsync(string name, CancellationToken cancellationToken = default)
    {
        _savepoint = name;
        try
        {
            await base.RollbackToSavepointAsync(name, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _savepoint = null;
        }
    }

    public override void ReleaseSavepoint(string name)
    {
        _savepoint = name;
        try
        {
            base.ReleaseSavepoint(name);
        }
        finally
        {
            _savepoint = null;
        }
    }

    public override async Task ReleaseSavepointAsync(string name, CancellationToken cancellationToken = default)
    {
        _savepoint = name;
        try
        {
            await base.ReleaseSavepointAsync(name, cancellationToken).ConfigureAwait(false);
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

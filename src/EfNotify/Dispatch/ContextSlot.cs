using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Dispatch;

/// <summary>
/// A context of the application's registration, kept for one part of the dispatcher (its loop, its prefetch, its
/// delivery record) across back-to-back uses. While a backlog drains, each of them runs several times for every 100
/// rows, and a new scope and context each time (options built, services resolved, the SQLite connection's functions
/// registered) cost about half of what EfNotify allocated per published row (1 Dec 2026). The slot is emptied when
/// its owner goes idle, after an exception (a context in an unknown state is not reused) and after
/// <see cref="MaxUses"/> uses.
/// </summary>
/// <remarks>Used by one caller at a time, like the context it holds.</remarks>
internal sealed class ContextSlot<TContext>(IServiceProvider services) : IAsyncDisposable
    where TContext : DbContext
{
    /// <summary>Uses of one context before a new one is made.</summary>
    internal const int MaxUses = 1000;

    private AsyncServiceScope? _scope;
    private DbContext? _context;
    private bool _ownsContext;
    private int _uses;

    /// <summary>Whether a context is held now.</summary>
    internal bool IsHeld => _context is not null;

    public async Task<T> RunAsync<T>(Func<DbContext, CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var context = _context ?? Create();
        T result;
        try
        {
            result = await action(context, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ReleaseAsync().ConfigureAwait(false);
            throw;
        }

        context.ChangeTracker.Clear();
        if (++_uses >= MaxUses)
        {
            await ReleaseAsync().ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>Disposes the context and its scope, if one is held.</summary>
    public async ValueTask ReleaseAsync()
    {
        var context = _context;
        var scope = _scope;
        _context = null;
        _scope = null;
        _uses = 0;
        try
        {
            if (context is not null && _ownsContext)
            {
                await context.DisposeAsync().ConfigureAwait(false); // from the factory: ours to dispose
            }
        }
        finally
        {
            if (scope is { } held)
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public ValueTask DisposeAsync() => ReleaseAsync();

    private DbContext Create()
    {
        var scope = services.CreateAsyncScope();
        try
        {
            var scoped = scope.ServiceProvider.GetService<TContext>();
            _context = scoped
                ?? scope.ServiceProvider.GetService<IDbContextFactory<TContext>>()?.CreateDbContext()
                ?? throw new InvalidOperationException(
                    $"EfNotify: {typeof(TContext).Name} is not registered. Register it with AddDbContext, AddDbContextPool or AddDbContextFactory.");
            _ownsContext = scoped is null;
            _scope = scope;
            return _context;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }
}

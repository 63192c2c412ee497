using Microsoft.EntityFrameworkCore.Diagnostics;

namespace EfNotify.Tests.TestModel;

/// <summary>Another application interceptor, registered after EfNotify's, that refuses a save while asked to.</summary>
public sealed class RefusingInterceptor : SaveChangesInterceptor
{
    public bool Refuse { get; set; }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
        => Refuse ? throw new InvalidOperationException("refused by another interceptor") : result;

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        => Refuse ? throw new InvalidOperationException("refused by another interceptor") : ValueTask.FromResult(result);
}

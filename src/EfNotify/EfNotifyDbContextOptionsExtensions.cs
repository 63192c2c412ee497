using EfNotify;
using EfNotify.Capture;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Enables EfNotify on a DbContext.</summary>
public static class EfNotifyDbContextOptionsExtensions
{
    /// <summary>
    /// Enables EfNotify on the context: changes to [Notify] entities, by SaveChanges or by <c>ExecuteUpdate</c>/<c>ExecuteDelete</c>,
    /// are written to the outbox in the same transaction as the data and published after the commit. Use it in <c>AddDbContext((sp, o) =&gt; o.UseSqlite(...).UseEfNotify(sp))</c>,
    /// and likewise with <c>AddDbContextPool</c> and <c>AddDbContextFactory</c>.
    /// </summary>
    /// <param name="optionsBuilder">The options builder.</param>
    /// <param name="serviceProvider">The application's service provider, in which <c>AddEfNotify</c> was called.</param>
    /// <returns>The options builder.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddEfNotify&lt;TContext&gt;()</c> was not called.</exception>
    public static DbContextOptionsBuilder UseEfNotify(this DbContextOptionsBuilder optionsBuilder, IServiceProvider serviceProvider)
    {
        var interceptor = serviceProvider.GetService<EfNotifyInterceptor>()
            ?? throw new InvalidOperationException(
                "EfNotify: its services are not registered. Call services.AddEfNotify<TContext>() before building the service provider.");
        ((IDbContextOptionsBuilderInfrastructure)optionsBuilder).AddOrUpdateExtension(
            optionsBuilder.Options.FindExtension<EfNotifyOptionsExtension>() ?? new EfNotifyOptionsExtension());
        optionsBuilder.AddInterceptors(interceptor);
        if (SaveBatchInterceptor.Helps(optionsBuilder.Options))
        {
            optionsBuilder.AddInterceptors(serviceProvider.GetRequiredService<SaveBatchInterceptor>());
        }

        // A command interceptor is called for every command of the context: only when set-based changes are to notify.
        return serviceProvider.GetRequiredService<IOptions<EfNotifyOptions>>().Value.CaptureSetBasedChanges
            ? optionsBuilder.AddInterceptors(serviceProvider.GetRequiredService<SetBasedInterceptor>())
            : optionsBuilder;
    }

    /// <inheritdoc cref="UseEfNotify(DbContextOptionsBuilder, IServiceProvider)"/>
    /// <typeparam name="TContext">The context type.</typeparam>
    public static DbContextOptionsBuilder<TContext> UseEfNotify<TContext>(this DbContextOptionsBuilder<TContext> optionsBuilder, IServiceProvider serviceProvider)
        where TContext : DbContext
        => (DbContextOptionsBuilder<TContext>)UseEfNotify((DbContextOptionsBuilder)optionsBuilder, serviceProvider);
}

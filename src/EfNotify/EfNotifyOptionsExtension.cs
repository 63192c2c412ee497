using EfNotify.Capture;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata.Conventions.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EfNotify;

/// <summary>Adds EfNotify's convention, per-context unit of work and savepoint naming to EF's internal service provider.</summary>
internal sealed class EfNotifyOptionsExtension : IDbContextOptionsExtension
{
    private DbContextOptionsExtensionInfo? _info;

    public DbContextOptionsExtensionInfo Info => _info ??= new ExtensionInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
        new EntityFrameworkServicesBuilder(services).TryAdd<IConventionSetPlugin, NotifyConventionSetPlugin>();
        services.TryAddScoped<NotifyUnitOfWork>();
        services.AddScoped<IResettableService>(provider => provider.GetRequiredService<NotifyUnitOfWork>());

        // Savepoint names reach EfNotify through EF's own transaction type; a provider with a transaction type of its
        // own keeps it (savepoints are then told apart only while one is open at a time).
        var transactions = services.FirstOrDefault(d => d.ServiceType == typeof(IRelationalTransactionFactory));
        if (transactions?.ImplementationType == typeof(RelationalTransactionFactory))
        {
            services.Remove(transactions);
            services.Add(ServiceDescriptor.Describe(typeof(IRelationalTransactionFactory), typeof(NamedSavepointTransactionFactory), transactions.Lifetime));
        }
    }

    public void Validate(IDbContextOptions options)
    {
    }

    private sealed class ExtensionInfo(IDbContextOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => "using EfNotify ";

        public override int GetServiceProviderHashCode() => 0;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) => other is ExtensionInfo;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo) => debugInfo["EfNotify"] = "1";
    }
}

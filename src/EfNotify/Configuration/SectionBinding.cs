using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EfNotify.Configuration;

/// <summary>
/// EfNotify's one configuration convention: each package binds its options from its own section of the application's
/// <see cref="IConfiguration"/> (<c>EfNotify</c>, <c>EfNotify:Pusher</c>, <c>EfNotify:AspNetCore</c>), and a delegate given in
/// code is applied after it, so code wins. Without an <see cref="IConfiguration"/> in the container nothing is bound.
/// </summary>
internal static class SectionBinding
{
    /// <summary>Registers the binding once per options type; registered before any delegate, so delegates win.</summary>
    public static void Add<TOptions>(IServiceCollection services, string sectionName)
        where TOptions : class
    {
        if (services.Any(d => d.ServiceType == typeof(Marker<TOptions>)))
        {
            return;
        }

        services.AddSingleton(new Marker<TOptions>());
        services.AddOptions<TOptions>();
        services.AddSingleton<IConfigureOptions<TOptions>>(sp => new Binder<TOptions>(sp.GetService<IConfiguration>(), sectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<TOptions>, ChangeTokenSource<TOptions>>());
    }

    private sealed class Marker<TOptions>;

    private sealed class Binder<TOptions>(IConfiguration? configuration, string sectionName) : IConfigureOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options) => configuration?.GetSection(sectionName).Bind(options);
    }

    /// <summary>Lets <see cref="IOptionsMonitor{TOptions}"/> see a reloaded configuration.</summary>
    private sealed class ChangeTokenSource<TOptions>(IServiceProvider services) : IOptionsChangeTokenSource<TOptions>
    {
        public string? Name => Options.DefaultName;

        public Microsoft.Extensions.Primitives.IChangeToken GetChangeToken()
            => services.GetService<IConfiguration>()?.GetReloadToken() ?? NeverChanges.Instance;
    }

    private sealed class NeverChanges : Microsoft.Extensions.Primitives.IChangeToken
    {
        public static readonly NeverChanges Instance = new();

        public bool HasChanged => false;

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => EmptyDisposable.Instance;
    }

    private sealed class EmptyDisposable : IDisposable
    {
        public static readonly EmptyDisposable Instance = new();

        public void Dispose()
        {
        }
    }
}

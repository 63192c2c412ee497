using Microsoft.Extensions.DependencyInjection;

namespace EfNotify;

/// <summary>Returned by <c>AddEfNotify</c>; transports and integrations add themselves through it.</summary>
public sealed class EfNotifyBuilder
{
    internal EfNotifyBuilder(IServiceCollection services) => Services = services;

    /// <summary>The application's service collection.</summary>
    public IServiceCollection Services { get; }
}

using Microsoft.Extensions.Options;

namespace EfNotify.Pusher;

/// <summary>Options given once, as a client built from <see cref="IOptions{TOptions}"/> reads them: one value for ever.</summary>
internal sealed class FixedOptionsMonitor<TOptions>(IOptions<TOptions> options) : IOptionsMonitor<TOptions>
    where TOptions : class
{
    public TOptions CurrentValue => options.Value;

    public TOptions Get(string? name) => options.Value;

    public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EfNotify.AspNetCore.Auth;

/// <summary>
/// Says at start-up when <c>AddAspNetCore</c> was called but <c>MapEfNotify</c> was not: earlier versions served the endpoints
/// from a controller found by <c>MapControllers()</c>, and an application that still relies on it would otherwise only see 404s.
/// </summary>
internal sealed partial class EndpointsMapped(ILogger<EndpointsMapped> logger) : IHostedLifecycleService
{
    private volatile bool _mapped;

    public void Mark() => _mapped = true;

    // After every hosted service has started, the web host included, so the application's endpoints are all mapped.
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!_mapped)
        {
            LogNotMapped(logger);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning,
        Message = "AddAspNetCore was called but app.MapEfNotify() was not: GET /pusher/key, POST /pusher/auth and POST /pusher/user-auth answer 404. They are minimal API endpoints now; app.MapControllers() no longer maps them.")]
    private static partial void LogNotMapped(ILogger logger);
}

using Microsoft.Extensions.Logging;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// Completes <see cref="Leading"/> when a dispatcher of this process logs that it leads (EfNotify's event 21), so an
/// instance of <c>e2e --instances</c> or <c>idle</c> learns it without polling: a poll would be part of the idle CPU
/// those commands measure. Logs nothing. <see cref="LoadHost"/> registers it for EfNotify's categories.
/// </summary>
internal sealed class LeadingLoggerProvider : ILoggerProvider, ILogger
{
    private const int LeadingEventId = 21;

    /// <summary>Completed once a dispatcher of this process leads.</summary>
    public static TaskCompletionSource Leading { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == LeadingEventId)
        {
            Leading.TrySetResult();
        }
    }

    public void Dispose()
    {
    }
}

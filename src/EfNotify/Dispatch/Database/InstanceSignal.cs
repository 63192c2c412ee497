using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// Tells the leading instance that a commit of this process wrote outbox rows, from outside the committed transaction.
/// Raising is coalesced: at most one signal is in flight, and raises that arrive meanwhile are folded into one more, so
/// a burst of commits costs two signals and never waits for one (a commit only flips a flag).
/// </summary>
internal abstract partial class InstanceSignal(ILogger logger) : IAsyncDisposable
{
    private int _state; // 0 idle, 1 sending, 2 sending and raised again meanwhile
    private bool _failing;
    private Task _sending = Task.CompletedTask;

    /// <summary>Sends a signal now, or once more after the one in flight.</summary>
    public void Raise()
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == 2)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                if (state == 0)
                {
                    _sending = Task.Run(SendLoopAsync); // off the committing thread
                }

                return;
            }
        }
    }

    /// <summary>Waits for the signal in flight, then lets go of what sending holds.</summary>
    public async ValueTask DisposeAsync()
    {
        await _sending.ConfigureAwait(false);
        await ResetAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Sends one signal to the leader.</summary>
    protected abstract Task SendAsync();

    /// <summary>Lets go of what a failed send held, so the next one starts afresh.</summary>
    protected abstract ValueTask ResetAsync();

    private async Task SendLoopAsync()
    {
        do
        {
            try
            {
                await SendAsync().ConfigureAwait(false);
                _failing = false;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // The leader still polls, so a lost signal only delays delivery: report the first of a run of failures.
                if (!_failing)
                {
                    LogSignalFailed(logger, exception);
                }

                _failing = true;
                await ResetAsync().ConfigureAwait(false);
            }
        }
        while (Interlocked.Decrement(ref _state) > 0);
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Signalling a commit to the leading instance failed; it finds the rows at its next poll")]
    private static partial void LogSignalFailed(ILogger logger, Exception exception);
}

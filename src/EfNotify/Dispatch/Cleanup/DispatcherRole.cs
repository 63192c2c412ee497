using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// The role the dispatcher of <typeparamref name="TContext"/> holds in this process, as of its last iteration: what the
/// services beside it (<see cref="OutboxCleanup{TContext}"/>) go by, so they never run on a standby.
/// </summary>
internal sealed class DispatcherRole<TContext>
    where TContext : DbContext
{
    private volatile int _state = (int)LeaderState.Standby;

    public LeaderState State
    {
        get => (LeaderState)_state;
        set => _state = (int)value;
    }
}

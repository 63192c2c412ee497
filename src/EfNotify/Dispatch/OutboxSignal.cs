using System.Threading.Channels;
using EfNotify.Outbox;

namespace EfNotify.Dispatch;

/// <summary>
/// Wakes the dispatcher right after a commit wrote outbox rows, so delivery does not wait for the next poll. Where the
/// database lets instances signal each other (<see cref="InstanceSignal"/>), a commit on an instance that does not lead
/// also wakes the leader, from outside the committed transaction.
/// </summary>
internal sealed class OutboxSignal : IOutboxSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = false,
        SingleWriter = false,
    });

    private volatile InstanceSignal? _instances;
    private volatile bool _leads;

    /// <summary>
    /// A commit of this process wrote outbox rows: wakes its dispatcher when it publishes them (it leads, or every
    /// instance claims under leases), and otherwise the leader only. A standby's pass would find nothing to do but
    /// would cost a context and a lock check per commit; it tries to lead again at its polling interval.
    /// </summary>
    public void Notify()
    {
        if (_leads || _instances is not { } instances)
        {
            _channel.Writer.TryWrite(true);
            return;
        }

        instances.Raise();
    }

    /// <summary>Wakes this process's dispatcher only (another instance signalled a commit).</summary>
    public void Wake() => _channel.Writer.TryWrite(true);

    /// <summary>Whether this process leads: its own commits then wake it directly and send no signal to other instances.</summary>
    internal bool Leads
    {
        get => _leads;
        set => _leads = value;
    }

    /// <summary>The signal to other instances of the application, or <see langword="null"/> where instances poll.</summary>
    internal InstanceSignal? Instances
    {
        get => _instances;
        set => _instances = value;
    }

    /// <summary>Waits until notified or until <paramref name="timeout"/> passes.</summary>
    /// <returns><see langword="true"/> when notified.</returns>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _))
        {
            return true;
        }

        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken);
        try
        {
            await _channel.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
            return _channel.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

namespace EfNotify.Diagnostics;

/// <summary>
/// What the dispatcher last saw: the backlog it counted and when its loop last completed an iteration. Gauges and the
/// health check read it without querying the database.
/// </summary>
internal sealed class OutboxMonitor
{
    private readonly Lock _lock = new();
    private OutboxBacklog? _backlog;
    private DateTime? _startedAt;
    private DateTime? _lastIteration;

    /// <summary>What this process's dispatcher published over the last minutes.</summary>
    public PublishHistory History { get; } = new();

    /// <summary>The backlog as last counted; <see langword="null"/> until the dispatcher of this process counted it.</summary>
    public OutboxBacklog? Backlog
    {
        get
        {
            lock (_lock)
            {
                return _backlog;
            }
        }
    }

    /// <summary>When the dispatcher of this process started; <see langword="null"/> when none runs here.</summary>
    public DateTime? StartedAt
    {
        get
        {
            lock (_lock)
            {
                return _startedAt;
            }
        }
    }

    /// <summary>When the dispatcher loop last completed an iteration; <see langword="null"/> before the first.</summary>
    public DateTime? LastIteration
    {
        get
        {
            lock (_lock)
            {
                return _lastIteration;
            }
        }
    }

    public void DispatcherStarted(DateTime now)
    {
        lock (_lock)
        {
            _startedAt = now;
            _lastIteration = null;
        }
    }

    public void DispatcherStopped()
    {
        lock (_lock)
        {
            _startedAt = null;
            _lastIteration = null;
            _backlog = null;
        }
    }

    public void IterationCompleted(DateTime now)
    {
        lock (_lock)
        {
            _lastIteration = now;
        }
    }

    public bool IsBacklogDue(DateTime now, TimeSpan interval)
    {
        lock (_lock)
        {
            return _backlog is null || now - _backlog.MeasuredAt >= interval || now < _backlog.MeasuredAt;
        }
    }

    public void SetBacklog(OutboxBacklog backlog)
    {
        lock (_lock)
        {
            _backlog = backlog;
        }
    }
}

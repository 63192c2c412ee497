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
    private PublishingPause? _pause;

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

    /// <summary>Why publishing is paused, since when and until when; <see langword="null"/> while it is not.</summary>
    public PublishingPause? Pause
    {
        get
        {
            lock (_lock)
            {
                return _pause;
            }
        }
    }

    public void Paused(PublishingPause pause)
    {
        lock (_lock)
        {
            _pause = pause;
        }
    }

    public void Resumed()
    {
        lock (_lock)
        {
            _pause = null;
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
            _pause = null;
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

/// <summary>A pause of publishing: the server's reason, when it began and when the next attempt is due.</summary>
internal sealed record PublishingPause(string Reason, DateTime Since, DateTime NextAttempt);

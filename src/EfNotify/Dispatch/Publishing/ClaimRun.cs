namespace EfNotify.Dispatch;

/// <summary>
/// What the lanes publishing one claim share (<see cref="ClaimPublication"/>): the state of each row and the limit past
/// which no row is begun. The limit only comes down: to the row a transient failure postponed (a later row would
/// overtake it on some channel), to zero on a pause (nothing more is sent), and, once the host stops, to just past the
/// highest row a request carried (a row under way is finished, a row not begun is left untouched). While publishing is
/// paused, the claim's first request goes alone, as a probe: the other lanes wait for its answer. Claims published one
/// after the other (<see cref="LaneChain"/>) are linked: a failure halts every claim after it, and a stop finishes a
/// claim in full once the claim after it has begun, since each row of a later claim comes after all of its rows.
/// </summary>
internal sealed class ClaimRun
{
    private readonly Lock _lock = new();
    private readonly RowState[] _states;
    private readonly CancellationToken _stopping;
    private readonly TaskCompletionSource? _probe;
    private bool _probeTaken;
    private int _limit;
    private int _begun = -1;
    private (int Row, string Reason)? _stopped;
    private bool _failed;
    private ClaimRun? _follower;

    public ClaimRun(RowState[] states, bool paused, CancellationToken stopping)
    {
        _states = states;
        _limit = states.Length;
        _stopping = stopping;
        _probe = paused ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null;
    }

    /// <summary>The refusal of the application one of the lanes met, if any.</summary>
    public PublishFailure? Pause { get; private set; }

    /// <summary>
    /// The next batch of a lane from <paramref name="start"/>: its end (<paramref name="start"/> when the lane is done),
    /// and the token of its request: none for a row already under way, which is finished even when the host stops.
    /// </summary>
    public async Task<(int End, CancellationToken Token)> NextAsync(List<PlannedEvent> lane, int start, int batchSize)
    {
        if (_probe is { } probe && !TakeProbe())
        {
            await probe.Task.ConfigureAwait(false);
        }

        lock (_lock)
        {
            StopIfRequested();

            var end = PublishPlanner.BatchEnd(lane, start, batchSize, _limit);
            if (end == start)
            {
                _probe?.TrySetResult(); // this lane sends nothing: it must not hold the others
                return (start, CancellationToken.None);
            }

            var token = lane[start].Row <= _begun ? CancellationToken.None : _stopping;
            _begun = Math.Max(_begun, lane[end - 1].Row);
            return (end, token);
        }
    }

    /// <summary>Whether the event of <paramref name="row"/> may still go (the one-by-one sending of a refused batch).</summary>
    public bool Allows(int row)
    {
        lock (_lock)
        {
            StopIfRequested();

            return row < _limit;
        }
    }

    /// <summary>
    /// Links the claim published after this one: a failure of this claim halts it, and this claim's rows are finished
    /// on a stop once it has begun.
    /// </summary>
    public void Follow(ClaimRun follower)
    {
        bool failed;
        lock (_lock)
        {
            _follower = follower;
            failed = _failed;
        }

        if (failed)
        {
            follower.Halt(null);
        }
    }

    /// <summary>A request got its answer: while paused, the other lanes may go on (or stop, when it was refused again).</summary>
    public void Answered() => _probe?.TrySetResult();

    public void Delivered(IReadOnlyList<PlannedEvent> batch)
    {
        lock (_lock)
        {
            foreach (var planned in batch)
            {
                _states[planned.Row].Delivered++;
                _states[planned.Row].Pending--;
            }
        }
    }

    public void Refused(PlannedEvent planned, string item, string reason)
    {
        lock (_lock)
        {
            _states[planned.Row].Refused.Add((item, reason));
            _states[planned.Row].Pending--;
        }
    }

    /// <summary>A transient failure at <paramref name="row"/>: it waits for a later attempt, and no row from it on is begun.</summary>
    public void Postpone(int row, string reason)
    {
        ClaimRun? follower;
        lock (_lock)
        {
            if (_stopped is not { } stopped || row < stopped.Row)
            {
                _stopped = (row, reason);
            }

            _limit = Math.Min(_limit, row);
            _failed = true;
            follower = _follower;
        }

        follower?.Halt(null); // every row of a later claim comes after this one
    }

    /// <summary>The server refused the application (or a lane failed unexpectedly): nothing more is begun.</summary>
    public void Halt(PublishFailure? pause)
    {
        ClaimRun? follower;
        lock (_lock)
        {
            Pause ??= pause;
            _limit = 0;
            _failed = true;
            follower = _follower;
        }

        follower?.Halt(null);
    }

    public ClaimOutcome Outcome()
    {
        lock (_lock)
        {
            _follower = null; // every lane is done: nothing of this claim can hold a later one any more
            return new ClaimOutcome(_states, _stopped) { Run = this };
        }
    }

    /// <summary>Once the host stops, no row past the highest one under way is begun, unless a later claim has begun.</summary>
    private void StopIfRequested()
    {
        if (_stopping.IsCancellationRequested && _follower?.HasBegun != true)
        {
            _limit = Math.Min(_limit, _begun + 1);
        }
    }

    private bool HasBegun
    {
        get
        {
            lock (_lock)
            {
                return _begun >= 0;
            }
        }
    }

    private bool TakeProbe()
    {
        lock (_lock)
        {
            var first = !_probeTaken;
            _probeTaken = true;
            return first;
        }
    }
}

namespace EfNotify.Dispatch;

/// <summary>
/// Lets the claims published one after the other share the lanes (<see cref="ChannelLanes"/>) without waiting for each
/// other as a whole: a lane of a claim begins once the same lane of the claim before it has finished, so each channel's
/// events still go out in order across claims, while the other lanes go on. A lane that stopped short (a transient
/// failure, a pause, a stop of the host) stops the same lane of the claims after it, so nothing overtakes what waits;
/// a failure also halts the later claims as a whole (<see cref="ClaimRun.Follow"/>).
/// </summary>
internal sealed class LaneChain
{
    private static readonly Task<bool> Finished = Task.FromResult(true);
    private static readonly Task<bool> StoppedShort = Task.FromResult(false);
    private readonly Task<bool>[] _tails;
    private readonly Dictionary<string, int> _placed = new(StringComparer.Ordinal);
    private ClaimRun? _last;

    public LaneChain(int lanes)
    {
        _tails = new Task<bool>[Math.Max(1, lanes)];
        Array.Fill(_tails, Finished);
    }

    public int Lanes => _tails.Length;

    /// <summary>
    /// The events of the claim about to be appended, by lane: spread evenly over the first <paramref name="fill"/> lanes
    /// when no claim is on the wire (<see cref="ChannelLanes.Balance"/>), else each channel in the lane an earlier claim
    /// gave it. The lanes the last balanced claim gave are kept until no claim is on the wire: at most a claim's channels.
    /// </summary>
    public List<PlannedEvent>?[] Place(IReadOnlyList<PlannedEvent> events, int fill)
    {
        if (_last is null)
        {
            _placed.Clear();
            return ChannelLanes.Balance(events, _tails.Length, fill, _placed);
        }

        return ChannelLanes.Follow(events, _tails.Length, _placed);
    }

    /// <summary>Makes <paramref name="run"/> the claim after the last one that is not recorded yet.</summary>
    public void Append(ClaimRun run)
    {
        _last?.Follow(run);
        _last = run;
        for (var i = 0; i < _tails.Length; i++)
        {
            // A finished lane keeps only its answer, not the claim it published.
            if (_tails[i].IsCompleted && _tails[i] != Finished && _tails[i] != StoppedShort)
            {
                _tails[i] = _tails[i].IsCompletedSuccessfully && _tails[i].Result ? Finished : StoppedShort;
            }
        }
    }

    /// <summary>
    /// The outcome of <paramref name="run"/> is being recorded, after those of the claims before it. When it is the last
    /// claim, nothing is on the wire: a claim read from now on starts from the first pending row, which stops at a row
    /// that waits for a retry, so it follows nothing.
    /// </summary>
    public void Recorded(ClaimRun? run)
    {
        if (run is not null && run == _last)
        {
            _last = null;
            Array.Fill(_tails, Finished);
        }
    }

    /// <summary>
    /// Starts the work of a lane after the same lane's work of earlier claims: <paramref name="publish"/> runs when that
    /// finished every event it had, else the lane's events are left for later (the task answers <see langword="false"/>).
    /// </summary>
    public Task Chain(int lane, Func<Task<bool>> publish)
    {
        var task = AfterAsync(_tails[lane], publish);
        _tails[lane] = task;
        return task;
    }

    private static async Task<bool> AfterAsync(Task<bool> previous, Func<Task<bool>> publish)
    {
        bool finished;
        try
        {
            finished = await previous.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            finished = false; // the claim before failed unexpectedly; its own outcome reports the fault
        }

        return finished && await publish().ConfigureAwait(false);
    }
}

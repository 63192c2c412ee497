using System.Globalization;
using System.Text;

namespace EfNotify.Dispatch;

/// <summary>
/// Numbers the events of each channel and action as the leading dispatcher publishes them, so a browser can tell a gap
/// (an event dead-lettered, lost, or missed while reconnecting) from a quiet channel. Every message gets
/// <c>"seq"</c> (1, 2, 3, … per channel and action) and <c>"epoch"</c> (new whenever this dispatcher starts, or leads
/// again after standing by): a message of another epoch, or with <c>seq</c> 1, starts the count afresh rather than
/// showing a gap. A number is taken when the event is first sent and given back when it was not accepted for a retry,
/// so retries keep the sequence without holes; a refused (dead-lettered) event keeps its number, which is the gap.
/// An event that excludes its author's connection (<c>X-Socket-ID</c>) never reaches that tab, so the next messages of
/// the channel carry <c>"own"</c>: <c>[seq, hash]</c> pairs of the last few such events, the hash being FNV-1a of the
/// socket id (eight hex digits), which lets the author's tab skip its own numbers without learning other socket ids.
/// The lanes of a claim stamp at the same time (each channel in one lane), so every call holds a lock.
/// </summary>
internal sealed class ChannelSequences
{
    /// <summary>The most bytes <see cref="Stamp"/> adds to an event's data; the dispatcher keeps data this far below the limit.</summary>
    public const int MaxAddedBytes = 64 + (RememberedOwn * 32);

    /// <summary>How many of the last author-excluded events a message names in <c>"own"</c>.</summary>
    public const int RememberedOwn = 8;

    /// <summary>Channels numbered at most; past it every count starts afresh (<c>seq</c> 1), which clients accept.</summary>
    private const int MaxChannels = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Channel, string Name), State> _states = [];
    private string? _epoch;

    /// <summary>Starts a new epoch: after this dispatcher stood by, another may have numbered the same channels.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _epoch = null;
            _states.Clear();
        }
    }

    /// <summary>The event with the next number of its channel and action in its data.</summary>
    public OutgoingEvent Stamp(OutgoingEvent outgoing, out long seq)
    {
        lock (_lock)
        {
            return StampLocked(outgoing, out seq);
        }
    }

    private OutgoingEvent StampLocked(OutgoingEvent outgoing, out long seq)
    {
        _epoch ??= Guid.NewGuid().ToString("N")[..12];
        if (!_states.TryGetValue((outgoing.Channel, outgoing.Name), out var state))
        {
            if (_states.Count >= MaxChannels)
            {
                _states.Clear();
            }

            _states[(outgoing.Channel, outgoing.Name)] = state = new State();
        }

        var number = seq = ++state.Seq;
        // Written once, straight into its string: nearly every event names no earlier events of its author.
        var own = state.Own.Count == 0 ? "" : Own(state.Own, number);
        var data = string.Create(
            CultureInfo.InvariantCulture, $"{outgoing.Data.AsSpan(0, outgoing.Data.Length - 1)},\"seq\":{number},\"epoch\":\"{_epoch}\"{own}}}");

        if (outgoing.SocketId is { } socketId)
        {
            state.Own.Add((seq, SocketHash(socketId)));
            if (state.Own.Count > RememberedOwn)
            {
                state.Own.RemoveAt(0);
            }
        }

        return outgoing with { Data = data };
    }

    /// <summary>The <c>"own"</c> member naming the author-excluded events among the last <see cref="RememberedOwn"/> before <paramref name="number"/>, or nothing.</summary>
    private static string Own(List<(long Seq, string Hash)> remembered, long number)
    {
        var recent = remembered.Where(o => o.Seq > number - 1 - RememberedOwn).ToList();
        return recent.Count == 0
            ? ""
            : $",\"own\":[{string.Join(',', recent.Select(o => $"[{o.Seq.ToString(CultureInfo.InvariantCulture)},\"{o.Hash}\"]"))}]";
    }

    /// <summary>Gives back the number of an event the server did not accept (it is sent again later with the same one).</summary>
    public void Unstamp(OutgoingEvent outgoing, long seq)
    {
        lock (_lock)
        {
            if (seq > 0 && _states.TryGetValue((outgoing.Channel, outgoing.Name), out var state) && state.Seq >= seq)
            {
                state.Seq = seq - 1;
                state.Own.RemoveAll(o => o.Seq >= seq);
            }
        }
    }

    /// <summary>FNV-1a (32 bits) of the socket id's UTF-8 bytes, as eight hex digits; efnotify.js computes the same.</summary>
    public static string SocketHash(string socketId)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(socketId))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    private sealed class State
    {
        public long Seq { get; set; }

        public List<(long Seq, string Hash)> Own { get; } = [];
    }
}

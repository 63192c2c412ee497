namespace EfNotify.Pusher;

/// <summary>
/// Publishes EfNotify's batches through <see cref="PusherClient"/>: one event to /events, several to /batch_events.
/// Its limits follow the options as currently configured, like the client's requests.
/// </summary>
internal sealed class PusherNotificationTransport : INotificationTransport
{
    /// <summary>Pusher's limit on events per batch_events request.</summary>
    public const int PusherMaxBatchSize = 10;

    private readonly PusherClient _client;
    private readonly PusherEncryption _encryption;
    private int _serverLimit = PusherOptions.DefaultMaxEventDataBytes;

    public PusherNotificationTransport(PusherClient client, PusherEncryption encryption)
    {
        _client = client;
        _encryption = encryption;
    }

    public int MaxBatchSize => PusherMaxBatchSize;

    public int MaxEventDataBytes
    {
        get
        {
            try
            {
                _serverLimit = _client.Current().Options.MaxEventDataBytes;
            }
            catch (PublishException)
            {
                // settings reloaded into invalid ones: publishing pauses on that, the limit stays
            }

            // With encryption the server's limit applies to the ciphertext envelope, so the dispatcher shrinks by a smaller limit.
            return _encryption.IsEnabled ? PusherEncryption.PlaintextLimit(_serverLimit) : _serverLimit;
        }
    }

    public async Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count > MaxBatchSize)
        {
            throw new ArgumentException($"A batch holds at most {MaxBatchSize} events; got {events.Count}.", nameof(events));
        }

        if (_encryption.IsEnabled)
        {
            events = Encrypt(events);
        }

        try
        {
            switch (events.Count)
            {
                case 0:
                    return;
                case 1:
                    var single = events[0];
                    await _client.TriggerAsync([single.Channel], single.Name, single.Data, single.SocketId, cancellationToken).ConfigureAwait(false);
                    return;
                default:
                    await _client.TriggerBatchAsync(events, cancellationToken).ConfigureAwait(false);
                    return;
            }
        }
        catch (ArgumentException ex)
        {
            // An event the client cannot even send (say, a malformed socket id) would be refused by the server
            // with 400 too: report it as the permanent refusal it is, so the dispatcher does not retry it forever.
            throw new PublishException(ex.Message, 400, isTransient: false, ex);
        }
    }

    private OutgoingEvent[] Encrypt(IReadOnlyList<OutgoingEvent> events)
    {
        var encrypted = new OutgoingEvent[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (_encryption.EncryptedChannelFor(e.Channel) is not { } channel)
            {
                encrypted[i] = e;
                continue;
            }

            var data = _encryption.Encrypt(channel, e.Data);
            if (System.Text.Encoding.UTF8.GetByteCount(data) > _serverLimit)
            {
                throw new PublishException($"The encrypted data for {channel} is larger than {_serverLimit} bytes.", 413, isTransient: false);
            }

            encrypted[i] = e with { Channel = channel, Data = data };
        }

        return encrypted;
    }
}

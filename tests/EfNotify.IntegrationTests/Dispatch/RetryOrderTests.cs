using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Pusher;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// A row that fails transiently while the rows after it would go through: none of them may overtake it. soketi cannot
/// refuse one request transiently and accept the next, so a transport that fails once for one notification stands in.
/// With several requests in flight (issue 13), the lane of the failing channel stops at it while the other lanes go on:
/// the channel's later events must still not overtake it.
/// </summary>
public sealed class RetryOrderTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Rows_after_one_that_waits_for_a_retry_are_published_after_it(int requestsInFlight)
    {
        const int transactions = 100, failing = 25;
        var transport = new FailOnceTransport(data => Notes(data) == $"{failing}", overlapWanted: requestsInFlight > 1);
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        var pusher = new PusherOptions { AppId = "unused", Key = "unused", Secret = "unused", Host = "127.0.0.1", Port = 9 };
        await using var writer = await NotifyHost.StartAsync(pusher, databasePath, o => o.DispatcherEnabled = false);
        var cards = Enumerable.Range(0, 5).Select(i => new Card { Title = $"card {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync();
        });
        for (var t = 0; t < transactions; t++)
        {
            await writer.WithContextAsync(async db =>
            {
                (await db.Cards.SingleAsync(c => c.Id == cards[t % cards.Count].Id)).Notes = $"{t}";
                await db.SaveChangesAsync();
            });
        }

        // Claims of 10 full rows: the leader reads the next claim while one is on the wire.
        await using var dispatcher = await NotifyHost.StartAsync(
            pusher, databasePath, o => { o.ClaimBatchSize = 10; o.MaxRetryAttempts = 0; o.MaxRequestsInFlight = requestsInFlight; }, services: s => s.AddSingleton<INotificationTransport>(transport));
        await dispatcher.AllDeliveredAsync(Deadline);

        Assert.Equal(1, transport.Failures);
        Assert.InRange(transport.MostInFlight, Math.Min(2, requestsInFlight), requestsInFlight); // five channels: several lanes at once
        var published = transport.Published.Select(e => (e.Channel, Sequence: int.Parse(Notes(e.Data), System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(Enumerable.Range(0, transactions), published.Select(p => p.Sequence).Order());
        foreach (var channel in published.GroupBy(p => p.Channel))
        {
            var sequences = channel.Select(p => p.Sequence).ToList();
            Assert.Equal(sequences.Order(), sequences);
        }
    }

    private static string Notes(string data) => JsonDocument.Parse(data).RootElement.GetProperty("values").GetProperty("Notes").GetString()!;

    private sealed class FailOnceTransport(Func<string, bool> failFor, bool overlapWanted) : INotificationTransport
    {
        private readonly List<OutgoingEvent> _published = [];

        /// <summary>Set once two requests are on the wire at the same time.</summary>
        private readonly TaskCompletionSource _overlapped = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int _inFlight;

        public int Failures { get; private set; }

        /// <summary>The most requests this transport had at once.</summary>
        public int MostInFlight { get; private set; }

        public IReadOnlyList<OutgoingEvent> Published
        {
            get
            {
                lock (_published)
                {
                    return [.. _published];
                }
            }
        }

        public int MaxBatchSize => 10;

        public int MaxEventDataBytes => 10_240;

        public async Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
        {
            lock (_published)
            {
                MostInFlight = Math.Max(MostInFlight, ++_inFlight);
                if (_inFlight >= 2)
                {
                    _overlapped.TrySetResult();
                }
            }

            try
            {
                if (overlapWanted)
                {
                    // The first requests stay on the wire until another lane's request joins them; without lanes none
                    // does, the wait ends at its deadline and the assertion on MostInFlight fails.
                    await _overlapped.Task.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
                }

                lock (_published)
                {
                    if (Failures == 0 && events.Any(e => failFor(e.Data)))
                    {
                        Failures++;
                        throw new PublishException("The server is busy", 503, isTransient: true);
                    }

                    _published.AddRange(events);
                }
            }
            finally
            {
                lock (_published)
                {
                    _inFlight--;
                }
            }
        }
    }
}

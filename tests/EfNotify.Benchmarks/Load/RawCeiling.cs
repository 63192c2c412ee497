using System.Diagnostics;
using EfNotify.Pusher;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// The transport's ceiling without EfNotify: batches of 10 events straight to soketi through <see cref="PusherClient"/>,
/// <c>requests</c> in flight, counted when the subscriber received them. Data of the size of a real notification.
/// </summary>
internal static class RawCeiling
{
    /// <returns>Events received per second, and what they cost per event (<see cref="Cost"/>).</returns>
    public static async Task<(double EventsPerSecond, string CostPerEvent)> MeasureAsync(
        PusherClient client, LoadSubscriber subscriber, int requests, TimeSpan duration, int soketiProcessId)
    {
        var channels = LoadHost.Channels.ToArray();
        var data = $"{{\"id\":\"{Guid.CreateVersion7()}\",\"entity\":\"LoadItem\",\"key\":1,\"action\":\"changed\",\"change\":\"modified\","
                   + $"\"at\":\"{DateTime.UtcNow:O}\",\"values\":{{\"Seq\":1}}}}";

        // Warm-up: connections opened, JIT done.
        await SendAsync(client, channels, data, requests, TimeSpan.FromMilliseconds(500), subscriber);

        var before = subscriber.Received;
        var cost = Cost.Sample(soketiProcessId);
        var clock = Stopwatch.StartNew();
        var sent = await SendAsync(client, channels, data, requests, duration, subscriber);
        if (!await subscriber.WaitForAsync(before + sent, TimeSpan.FromSeconds(5)))
        {
            Console.Error.WriteLine($"raw: {subscriber.Received - before} of {sent} events arrived");
        }

        var received = subscriber.Received - before;
        return (received / clock.Elapsed.TotalSeconds, Cost.Sample(soketiProcessId).Since(cost).PerEvent(received));
    }

    /// <summary>The raw ceiling at each number of requests in flight, one after the other.</summary>
    public static async Task<List<(int Requests, double EventsPerSecond)>> MeasureInFlightAsync(
        PusherClient client, LoadSubscriber subscriber, int[] requests, TimeSpan duration, int soketiProcessId)
    {
        var results = new List<(int, double)>();
        foreach (var inFlight in requests)
        {
            results.Add((inFlight, (await MeasureAsync(client, subscriber, inFlight, duration, soketiProcessId)).EventsPerSecond));
        }

        return results;
    }

    private static async Task<long> SendAsync(PusherClient client, string[] channels, string data, int requests, TimeSpan duration, LoadSubscriber subscriber)
    {
        var before = subscriber.Received;
        long sent = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, requests).Select(w => Task.Run(async () =>
        {
            var next = w * 10;
            while (clock.Elapsed < duration)
            {
                var batch = new OutgoingEvent[10];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = new OutgoingEvent(channels[next++ % channels.Length], "changed", data);
                }

                await client.TriggerBatchAsync(batch);
                Interlocked.Add(ref sent, batch.Length);
            }
        }));
        await Task.WhenAll(workers);
        await subscriber.WaitForAsync(before + sent, TimeSpan.FromSeconds(5));
        return sent;
    }
}

using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Benchmarks.Peer;

/// <summary>
/// <c>--trace</c>: one save of three rows per case with every statement on the context's connection printed, the
/// journal mode and synchronous setting of both connection pools, and where Wolverine's envelopes end up.
/// </summary>
public static class TraceCommand
{
    public static async Task<int> RunAsync()
    {
        foreach (var kind in Enum.GetValues<OutboxKind>())
        {
            await TraceAsync(kind);
        }

        return 0;
    }

    private static async Task TraceAsync(OutboxKind kind)
    {
        var trace = new SqlTrace();
        var storeTrace = new SqlTrace();
        await using var database = await PeerDatabase.CreateAsync(kind, rows: 3, o => o.AddInterceptors(trace), storeTrace);
        await database.ModifyAndSaveAsync(1);
        trace.Drain();

        Console.WriteLine($"== {kind}");
        trace.Recording = true;
        await database.ModifyAndSaveAsync(2);
        trace.Recording = false;
        foreach (var sql in trace.Drain())
        {
            Console.WriteLine("  " + sql.ReplaceLineEndings(" "));
        }

        trace.Recording = true;
        await using (var command = database.Context.Database.GetDbConnection().CreateCommand())
        {
            await database.Context.Database.OpenConnectionAsync();
            command.CommandText = "PRAGMA synchronous";
            var efSync = await command.ExecuteScalarAsync();
            command.CommandText = "PRAGMA journal_mode";
            var efJournal = await command.ExecuteScalarAsync();
            await database.Context.Database.CloseConnectionAsync();
            Console.WriteLine($"  context connection: journal_mode={efJournal} synchronous={efSync}");
        }

        trace.Recording = false;
        trace.Drain();

        if (kind == OutboxKind.Wolverine)
        {
            await Task.Delay(5000);
            storeTrace.Drain();
            Console.WriteLine("  -- Wolverine's own connections, 10 s from the save on:");
            storeTrace.Recording = true;
            await database.ModifyAndSaveAsync(3);
            await Task.Delay(10000);
            storeTrace.Recording = false;
            foreach (var sql in storeTrace.Drain())
            {
                Console.WriteLine("  " + sql.ReplaceLineEndings(" "));
            }

            foreach (var wait in new[] { 0, 2000 })
            {
                await Task.Delay(wait);
                var incoming = await database.ScalarAsync("SELECT group_concat(status || ':' || n) FROM (SELECT status, count(*) AS n FROM wolverine_incoming_envelopes GROUP BY status)");
                var outgoing = await database.ScalarAsync("SELECT count(*) FROM wolverine_outgoing_envelopes");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  after {wait} ms: incoming by status={incoming} outgoing={outgoing} handled by the handler={ItemChangedHandler.Handled}"));
            }

            // A connection from the pool of Wolverine's connection string: one the store has opened and returned.
            Console.WriteLine($"  store pool connection: synchronous={await database.ScalarAsync("PRAGMA synchronous")}");
            var tables = await database.ScalarAsync("SELECT group_concat(name, ' ') FROM sqlite_master WHERE type='table'");
            Console.WriteLine($"  tables: {tables}");
        }
    }
}

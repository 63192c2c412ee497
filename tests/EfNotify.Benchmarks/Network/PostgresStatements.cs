using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;

namespace EfNotify.Benchmarks.Network;

/// <summary>
/// Reads the SQL a PostgreSQL client sends through a <see cref="LatencyProxy"/> (the frontend protocol's Parse and
/// Query messages), grouped by the proxy's turns, so a tool can print which statements each round trip of a save
/// carried. Only while <see cref="Recording"/>; the framing is followed always, since a message may span chunks.
/// </summary>
internal sealed class PostgresStatements
{
    private const int SslRequestCode = 80877103;
    private const int GssEncRequestCode = 80877104;

    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private readonly ConcurrentQueue<(long Connection, long Turn, string Sql)> _recorded = new();

    public bool Recording { get; set; }

    /// <summary>The observer of <see cref="LatencyProxy.Start"/>.</summary>
    public void Observe(long connection, long turn, ReadOnlyMemory<byte> bytes)
        => _connections.GetOrAdd(connection, _ => new Connection()).Read(bytes.Span, sql =>
        {
            if (Recording)
            {
                _recorded.Enqueue((connection, turn, sql));
            }
        });

    /// <summary>The statements recorded since the last call, one line per turn: "[BEGIN; UPDATE ...] [COMMIT]".</summary>
    public IReadOnlyList<string> TakeTurns(int maxSqlLength = 70)
    {
        var turns = new List<string>();
        (long Connection, long Turn)? current = null;
        var statements = new List<string>();
        while (_recorded.TryDequeue(out var entry))
        {
            if (current != (entry.Connection, entry.Turn) && statements.Count > 0)
            {
                turns.Add(string.Join("; ", statements));
                statements.Clear();
            }

            current = (entry.Connection, entry.Turn);
            var sql = string.Join(' ', entry.Sql.Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
            statements.Add(sql.Length > maxSqlLength ? sql[..maxSqlLength] + "…" : sql);
        }

        if (statements.Count > 0)
        {
            turns.Add(string.Join("; ", statements));
        }

        return turns;
    }

    /// <summary>One connection's framing: untyped messages until the startup message, then a type byte and a length each.</summary>
    private sealed class Connection
    {
        private readonly List<byte> _pending = [];
        private bool _typed;

        public void Read(ReadOnlySpan<byte> bytes, Action<string> statement)
        {
            lock (_pending)
            {
                _pending.AddRange(bytes);
                var span = (ReadOnlySpan<byte>)_pending.ToArray();
                var used = 0;
                while (true)
                {
                    var header = _typed ? 5 : 4;
                    if (span.Length - used < header)
                    {
                        break;
                    }

                    var length = BinaryPrimitives.ReadInt32BigEndian(span[(used + header - 4)..]);
                    var total = (_typed ? 1 : 0) + length;
                    if (length < 4 || span.Length - used < total)
                    {
                        break;
                    }

                    var body = span.Slice(used + header, total - header);
                    if (!_typed)
                    {
                        var code = body.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(body) : 0;
                        _typed = code is not SslRequestCode and not GssEncRequestCode;
                    }
                    else if (span[used] == (byte)'Q')
                    {
                        statement(CString(body));
                    }
                    else if (span[used] == (byte)'P')
                    {
                        var name = body.IndexOf((byte)0);
                        statement(CString(body[(name + 1)..]));
                    }

                    used += total;
                }

                _pending.RemoveRange(0, used);
            }
        }

        private static string CString(ReadOnlySpan<byte> bytes)
        {
            var end = bytes.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
        }
    }
}

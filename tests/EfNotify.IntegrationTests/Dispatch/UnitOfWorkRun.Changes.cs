using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>The changes a save makes: inserts, updates and deletes of distinct cards, and <c>Notify</c> calls.</summary>
public sealed partial class UnitOfWorkRun
{
    private async Task<(List<Change> Changes, Dictionary<int, string?> Rows)> ChangeAsync(int count, int? exclude)
    {
        var rows = new Dictionary<int, string?>(Model.Rows);
        var changes = new List<Change>();
        var taken = new HashSet<int>();
        if (exclude is { } excluded)
        {
            taken.Add(excluded);
        }

        for (var i = 0; i < count; i++)
        {
            var kind = _random.Next(3);
            if (kind > 0 && Pick(rows.Keys, taken) is { } id)
            {
                taken.Add(id);
                var card = await db.Cards.SingleAsync(c => c.Id == id);
                if (kind == 1)
                {
                    card.Notes = Stamp();
                    changes.Add(new(card, "modified"));
                }
                else
                {
                    db.Remove(card);
                    changes.Add(new(card, "deleted"));
                }
            }
            else
            {
                var card = new Card { Title = $"seed {seed}", Notes = Stamp() };
                db.Add(card);
                changes.Add(new(card, "added"));
            }
        }

        return (changes, rows);
    }

    private async Task MaybeNotifyAsync()
    {
        if (_random.Next(3) == 0 && Model.Rows.Count > 0)
        {
            await NotifyOneAsync();
        }
    }

    private async Task NotifyOneAsync()
    {
        var id = Pick(Model.Rows.Keys, exclude: null)!.Value;
        _log.Add($"notify #{id}");
        db.Notify(await db.Cards.SingleAsync(c => c.Id == id), "poke");
        Model.Queue(new($"private-Card.{id}", "poke", "notified"));
    }

    private Dictionary<int, string?> Apply(Dictionary<int, string?> rows, List<Change> changes)
    {
        foreach (var change in changes)
        {
            Seen.Add(change.Card.Id);
            if (change.Kind == "deleted")
            {
                rows.Remove(change.Card.Id);
            }
            else
            {
                rows[change.Card.Id] = change.Card.Notes;
            }
        }

        return rows;
    }

    private int? Pick(IEnumerable<int> ids, IReadOnlySet<int>? exclude)
    {
        var candidates = ids.Where(i => exclude is null || !exclude.Contains(i)).Order().ToList();
        return candidates.Count == 0 ? null : candidates[_random.Next(candidates.Count)];
    }

    private sealed record Change(Card Card, string Kind)
    {
        public Note Note() => new($"private-Card.{Card.Id}", "changed", Kind);
    }
}

using System.Globalization;
using System.Text;

namespace EfNotify.Dispatch;

/// <summary>
/// Outbox row ids as runs of consecutive ids, for SQL that names a set of rows without a parameter per id: the rows a
/// leader claims and delivers are nearly always consecutive, so a few hundred ids become one or two runs.
/// </summary>
internal static class IdRanges
{
    /// <summary>More runs than this go into the <c>IN</c> list, which keeps the expression shallow (SQLite allows a depth of 1000).</summary>
    internal const int MaxBetweenTerms = 32;

    /// <summary>The distinct ids as ascending runs <c>(First, Last)</c>.</summary>
    public static List<(long First, long Last)> From(IEnumerable<long> ids)
    {
        var sorted = ids.ToArray();
        Array.Sort(sorted);
        var runs = new List<(long First, long Last)>();
        for (var i = 0; i < sorted.Length; i++)
        {
            if (runs.Count > 0 && sorted[i] <= runs[^1].Last + 1)
            {
                runs[^1] = (runs[^1].First, Math.Max(runs[^1].Last, sorted[i]));
            }
            else
            {
                runs.Add((sorted[i], sorted[i]));
            }
        }

        return runs;
    }

    /// <summary>
    /// Appends a condition on <paramref name="column"/> that holds for the ids of <paramref name="runs"/>
    /// (<c>BETWEEN</c> for a run of three or more, one <c>IN</c> list for the rest), or for none of them when
    /// <paramref name="negate"/>. The ids are integers written by this method, never text from outside.
    /// </summary>
    public static void AppendCondition(StringBuilder sql, string column, IReadOnlyList<(long First, long Last)> runs, bool negate)
    {
        if (runs.Count == 0)
        {
            throw new ArgumentException("At least one run of ids is required.", nameof(runs));
        }

        var terms = new List<string>();
        var singles = new List<long>();
        foreach (var (first, last) in runs)
        {
            if (last - first >= 2 && terms.Count < MaxBetweenTerms)
            {
                terms.Add(string.Create(CultureInfo.InvariantCulture, $"{column} {(negate ? "NOT " : "")}BETWEEN {first} AND {last}"));
            }
            else
            {
                for (var id = first; id <= last; id++)
                {
                    singles.Add(id);
                }
            }
        }

        if (singles.Count > 0)
        {
            terms.Add($"{column} {(negate ? "NOT " : "")}IN ({string.Join(", ", singles.Select(id => id.ToString(CultureInfo.InvariantCulture)))})");
        }

        sql.Append('(').AppendJoin(negate ? " AND " : " OR ", terms).Append(')');
    }
}

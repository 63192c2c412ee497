using System.Globalization;

namespace EfNotify.Benchmarks.Load;

/// <summary>Argument parsing and the output format shared by the load commands.</summary>
internal static class Args
{
    /// <summary>
    /// Takes <c>--postgres "&lt;connection string&gt;"</c> out of <paramref name="args"/>: the load tools then run on a
    /// throwaway database of that server (<see cref="LoadHost.UsePostgres"/>). False when the option has no value.
    /// </summary>
    public static bool TakePostgres(ref string[] args, string usage)
    {
        var index = Array.IndexOf(args, "--postgres");
        if (index < 0)
        {
            return true;
        }

        if (index + 1 >= args.Length || args[index + 1].Length == 0)
        {
            Console.Error.WriteLine($"usage: {usage}");
            return false;
        }

        Environment.SetEnvironmentVariable(Overhead.BenchStorage.PostgresVariable, args[index + 1]);
        LoadHost.UsePostgres = true;
        args = [.. args[..index], .. args[(index + 2)..]];
        return true;
    }

    public static bool TryParse(string[] args, string usage, out bool quick, out Dictionary<string, int> values, params string[] valueNames)
    {
        quick = false;
        values = [];
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--quick")
            {
                quick = true;
            }
            else if (valueNames.Contains(args[i]) && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) && value >= 0)
            {
                values[args[i]] = value;
                i++;
            }
            else
            {
                Console.Error.WriteLine($"usage: {usage}");
                return false;
            }
        }

        return true;
    }

    public static string Format(double value, string format = "0.00")
        => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "NaN";

    public static void PrintTable(string title, IReadOnlyList<(string Name, string Value)> rows)
    {
        var width = rows.Max(r => r.Name.Length);
        Console.WriteLine();
        Console.WriteLine($"| {title.PadRight(width)} | |");
        Console.WriteLine($"|{new string('-', width + 2)}|---|");
        foreach (var (name, value) in rows)
        {
            Console.WriteLine($"| {name.PadRight(width)} | {value} |");
        }

        Console.WriteLine();
    }

    public static void Print(IEnumerable<KeyValuePair<string, string>> results)
    {
        foreach (var (key, value) in results)
        {
            Console.WriteLine($"{key}={value}");
        }
    }
}

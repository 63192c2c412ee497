using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EfNotify.Tests.Architecture;

/// <summary>
/// Issue 11: the folders of src/EfNotify depend one way, Capture → Outbox ← Dispatch → Transport, all of them on Channels,
/// and no source file answers two questions (over about 250 lines).
/// </summary>
public class FolderRuleTests
{
    private const int MaxLines = 250;

    // What each folder must not name. Channels and Transport (the transport contract and the neutral message it carries)
    // are leaves: the outbox reads its rows into that message, the dispatcher hands it on. The root (registration and
    // options), Configuration and Health wire the parts together; Diagnostics is shared by Capture and Dispatch.
    private static readonly Dictionary<string, string[]> Forbidden = new()
    {
        ["Channels"] = ["Capture", "Outbox", "Dispatch", "Transport", "Diagnostics", "Health", "Configuration"],
        ["Transport"] = ["Capture", "Outbox", "Dispatch", "Diagnostics", "Health", "Configuration"],
        ["Outbox"] = ["Capture", "Dispatch", "Health"],
        ["Capture"] = ["Dispatch", "Transport", "Health"],
        ["Dispatch"] = ["Capture", "Health"],
        ["Diagnostics"] = ["Capture", "Dispatch", "Transport", "Health"],
        ["Configuration"] = ["Capture", "Outbox", "Dispatch", "Transport", "Health"],
    };

    private static readonly Lazy<SourceGraph> Graph = new(() => SourceGraph.Load(Path.Combine("src", "EfNotify")));

    [Fact]
    public void No_folder_of_EfNotify_names_a_folder_against_the_arrows()
    {
        var graph = Graph.Value;
        Assert.Empty(graph.BindingErrors().Select(d => d.ToString()).Take(10));

        var references = graph.CrossFolderReferences().ToList();
        Assert.Contains(references, r => r is { From: "Capture", To: "Outbox" }); // the graph sees real references

        var offenders = references
            .Where(r => Forbidden.TryGetValue(r.From, out var forbidden) && forbidden.Contains(r.To))
            .GroupBy(r => $"{r.From} -> {r.To}: {r.Symbol}")
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(r => $"{r.File}:{r.Line}").Distinct().Take(3))})")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(offenders.Count == 0, $"{offenders.Count} references against Capture → Outbox ← Dispatch → Transport:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void A_fully_qualified_reference_against_the_arrows_is_seen()
    {
        var graph = Graph.Value;
        var outbox = graph.Compilation.SyntaxTrees.First(t => graph.FolderOf(t.FilePath) == "Outbox");
        var capture = graph.Compilation.SyntaxTrees.First(t => graph.FolderOf(t.FilePath) == "Capture"
            && t.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>().Any());
        var captureType = capture.GetRoot().DescendantNodes().OfType<BaseTypeDeclarationSyntax>().First();
        var name = graph.Compilation.GetSemanticModel(capture).GetDeclaredSymbol(captureType)!.ToDisplayString();
        var planted = CSharpSyntaxTree.ParseText(
            $"namespace EfNotify.Outbox; internal static class Planted {{ public static string Name => typeof(global::{name}).Name; }}",
            (CSharpParseOptions)outbox.Options,
            Path.Combine(Path.GetDirectoryName(outbox.FilePath)!, "Planted.cs"));
        var withPlant = graph.WithTree(planted);

        Assert.Contains(withPlant.CrossFolderReferences(), r => r is { From: "Outbox", To: "Capture" } && r.File.EndsWith("Planted.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void No_source_file_is_over_about_250_lines()
    {
        var offenders = SourceGraph.SourceFiles(Path.Combine(SourceGraph.RepositoryRoot, "src"))
            .Select(path => (Path: Path.GetRelativePath(SourceGraph.RepositoryRoot, path), Lines: File.ReadLines(path).Count()))
            .Where(f => f.Lines > MaxLines)
            .OrderByDescending(f => f.Lines)
            .Select(f => $"{f.Path}: {f.Lines} lines")
            .ToList();
        Assert.True(offenders.Count == 0, $"{offenders.Count} files over {MaxLines} lines:\n" + string.Join("\n", offenders));
    }
}

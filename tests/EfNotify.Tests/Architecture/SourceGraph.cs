using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EfNotify.Tests.Architecture;

/// <summary>
/// src/EfNotify compiled from its sources with Roslyn, and for each file the folders of the symbols it names: every name
/// the semantic model binds (type, member, extension method, a target-typed <c>new()</c>), whether written through a
/// <c>using</c>, fully qualified or inferred, is traced to the source file that declares it.
/// </summary>
internal sealed class SourceGraph
{
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private SourceGraph(string root, CSharpCompilation compilation)
    {
        Root = root;
        Compilation = compilation;
    }

    public static string RepositoryRoot { get; } = FindRoot();

    public string Root { get; }

    public CSharpCompilation Compilation { get; }

    public static SourceGraph Load(string projectFolder)
    {
        var root = Path.Combine(RepositoryRoot, projectFolder);
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = SourceFiles(root)
            .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), options, path))
            .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, options, "ImplicitUsings.cs"));
        var compilation = CSharpCompilation.Create(
            "EfNotify.FolderRule", trees, References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return new SourceGraph(root, compilation);
    }

    /// <summary>The same sources with one more file, to show the graph sees what is planted.</summary>
    public SourceGraph WithTree(SyntaxTree tree) => new(Root, Compilation.AddSyntaxTrees(tree));

    public static IEnumerable<string> SourceFiles(string root) => Directory
        .EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
        .Where(path => !Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"));

    /// <summary>The top folder of a file under <see cref="Root"/>; the empty string for a file at the root.</summary>
    public string FolderOf(string path)
    {
        var parts = Path.GetRelativePath(Root, path).Split(Path.DirectorySeparatorChar);
        return parts.Length > 1 ? parts[0] : string.Empty;
    }

    /// <summary>Every (from file, to folder, symbol) where a file names a symbol declared in another folder.</summary>
    public IEnumerable<(string File, string From, string To, string Symbol, int Line)> CrossFolderReferences()
    {
        foreach (var tree in Compilation.SyntaxTrees.Where(t => t.FilePath.StartsWith(Root, StringComparison.Ordinal)))
        {
            var model = Compilation.GetSemanticModel(tree);
            var from = FolderOf(tree.FilePath);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (node is not (SimpleNameSyntax or ImplicitObjectCreationExpressionSyntax))
                {
                    continue;
                }

                var info = model.GetSymbolInfo(node);
                var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
                if (symbol is null || DeclaringFile(symbol) is not { } declaredIn)
                {
                    continue;
                }

                var to = FolderOf(declaredIn);
                if (to != from)
                {
                    var line = node.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    yield return (Path.GetRelativePath(RepositoryRoot, tree.FilePath), from, to, symbol.ToDisplayString(), line);
                }
            }
        }
    }

    /// <summary>Errors other than the parts that source generators would write (LoggerMessage, GeneratedRegex).</summary>
    public IEnumerable<Diagnostic> BindingErrors() => Compilation.GetDiagnostics()
        .Where(d => d.Severity == DiagnosticSeverity.Error && d.Id is not ("CS8795" or "CS0759" or "CS8796"));

    private string? DeclaringFile(ISymbol symbol)
    {
        symbol = symbol switch
        {
            IMethodSymbol { ReducedFrom: { } reduced } => reduced,
            _ => symbol,
        };
        var definition = symbol.OriginalDefinition;
        if (definition is INamespaceSymbol or ILocalSymbol or IParameterSymbol or IRangeVariableSymbol or ILabelSymbol)
        {
            return null;
        }

        return definition.Locations.FirstOrDefault(l => l.IsInSource && l.SourceTree!.FilePath.StartsWith(Root, StringComparison.Ordinal))?.SourceTree!.FilePath;
    }

    private static IEnumerable<MetadataReference> References()
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var local = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll");
        return platform.Concat(local)
            .Where(path => !Path.GetFileName(path).StartsWith("EfNotify", StringComparison.OrdinalIgnoreCase))
            .DistinctBy(Path.GetFileName)
            .Select(path => MetadataReference.CreateFromFile(path));
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EfNotify.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No EfNotify.sln above {AppContext.BaseDirectory}.");
    }
}

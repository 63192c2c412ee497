namespace EfNotify.Benchmarks.Load;

/// <summary>Finds the repository the tools run from (the folder holding EfNotify.sln).</summary>
internal static class Repository
{
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EfNotify.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("EfNotify.sln not found above " + AppContext.BaseDirectory);
    }
}

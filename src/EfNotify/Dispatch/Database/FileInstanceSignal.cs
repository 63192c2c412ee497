using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// On a SQLite file shared by processes of one machine, a commit on an instance that does not lead is signalled by
/// writing a byte to a file beside the database (<c>{database}.efnotify-wake</c>); the leader watches that file
/// with the operating system's change notification (inotify on Linux), which costs an idle leader nothing and wakes it
/// within a millisecond or so.
/// </summary>
internal sealed class FileInstanceSignal(string path, ILogger logger) : InstanceSignal(logger)
{
    private static readonly byte[] OneByte = [1];
    private FileStream? _file;

    /// <summary>The wake file of a database file.</summary>
    public static string PathFor(string databasePath) => databasePath + ".efnotify-wake";

    /// <summary>Calls <paramref name="changed"/> whenever another process writes the wake file; dispose the result to stop.</summary>
    public static FileSystemWatcher Watch(string path, Action changed)
    {
        using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            // Made before the watch starts, so the first signal is a change of a file the watcher knows.
        }

        var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size,
            IncludeSubdirectories = false,
        };
        watcher.Changed += (_, _) => changed();
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    protected override async Task SendAsync()
    {
        _file ??= new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        await _file.WriteAsync(OneByte.AsMemory(), CancellationToken.None).ConfigureAwait(false);
        _file.Position = 0; // the file keeps its one byte; each write is a change the leader sees
    }

    protected override async ValueTask ResetAsync()
    {
        if (_file is { } file)
        {
            _file = null;
            await file.DisposeAsync().ConfigureAwait(false);
        }
    }
}

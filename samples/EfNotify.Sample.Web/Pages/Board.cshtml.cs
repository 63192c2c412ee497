using EfNotify.Sample.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Sample.Web.Pages;

/// <summary>
/// The task board, server-rendered: its fragments name their channels in data-efnotify, and htmx fetches a fragment
/// again when its element receives an "efnotify" event. The page has no script of its own.
/// </summary>
[Authorize]
public sealed class BoardModel(SampleContext db) : PageModel
{
    public static readonly string[] Statuses = ["todo", "doing", "done"];

    public IReadOnlyList<TaskCard> Tasks { get; private set; } = [];

    public IReadOnlyList<TaskCard> Mine { get; private set; } = [];

    public string UserName => User.Identity?.Name ?? "";

    public Task OnGetAsync() => LoadAsync();

    /// <summary>The board's rows, for htmx when the list channel says a task changed.</summary>
    public async Task<PartialViewResult> OnGetTasksAsync()
    {
        await LoadAsync();
        return Partial("_Tasks", this);
    }

    /// <summary>The tasks assigned to the user, for htmx when the user's own channel says one of them changed.</summary>
    public async Task<PartialViewResult> OnGetMineAsync()
    {
        await LoadAsync();
        return Partial("_MyTasks", this);
    }

    /// <summary>
    /// A status chosen on the board: saved (EfNotify tells the other browsers), then the board and, out of band, the
    /// user's own list, since this tab is not sent its own notifications (htmx's requests carry X-Socket-ID).
    /// </summary>
    public async Task<IActionResult> OnPostStatusAsync(int id, string? status)
    {
        var task = await db.Tasks.FindAsync(id);
        if (task is null)
        {
            return NotFound();
        }

        if (!Statuses.Contains(status))
        {
            return BadRequest($"status must be one of {string.Join(", ", Statuses)}");
        }

        task.Status = status!;
        await db.SaveChangesAsync();
        await LoadAsync();
        return Partial("_Changed", this);
    }

    private async Task LoadAsync()
    {
        Tasks = await db.Tasks.AsNoTracking().OrderBy(t => t.Id).ToListAsync();
        Mine = [.. Tasks.Where(t => t.Assignee == UserName)];
    }
}

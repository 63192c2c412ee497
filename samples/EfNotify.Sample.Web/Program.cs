using System.Security.Claims;
using EfNotify;
using EfNotify.Pusher;
using EfNotify.Sample.Web;
using EfNotify.Sample.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddDbContext<SampleContext>((sp, o) => o
    .UseSqlite(builder.Configuration.GetConnectionString("Sample") ?? "Data Source=sample.db")
    .UseEfNotify(sp));

builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
{
    o.LoginPath = "/login.html";
    o.Cookie.SameSite = SameSiteMode.Strict;
    o.Events.OnRedirectToLogin = context =>
    {
        // A page the browser navigates to (the board) goes to the sign-in page; JSON endpoints answer 401, and the
        // script of the page that called them goes there itself.
        var headers = context.Request.Headers;
        if (HttpMethods.IsGet(context.Request.Method) && (headers["Sec-Fetch-Mode"] == "navigate" || headers.Accept.ToString().StartsWith("text/html", StringComparison.Ordinal)))
        {
            context.Response.Redirect(o.LoginPath);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        }

        return Task.CompletedTask;
    };
});
builder.Services.AddAuthorization(o => o.AddPolicy("Operator", p => p.RequireRole("Operator")));
builder.Services.AddScoped<IAuthorizationHandler, RoomMemberHandler>();
builder.Services.AddRazorPages(); // Pages/Board: the task board refreshed by htmx, with no script of its own

// EfNotify: the outbox and its dispatcher, Pusher (EfNotify:Pusher in appsettings.json), and the browser endpoints.
builder.Services.AddEfNotify<SampleContext>()                   // binds EfNotify (dispatcher options)
    .AddPusher()                                              // binds EfNotify:Pusher
    .AddAspNetCore<SampleContext>(o => o
        .Allow<Person>((user, person) => person.UserName == user.Identity?.Name)
        .AllowList<TaskCard>(user => user.IsInRole("User")));

var app = builder.Build();

await using (var scope = app.Services.CreateAsyncScope())
{
    await SampleDatabase.MigrateAsync(scope.ServiceProvider.GetRequiredService<SampleContext>());
}

app.Use(ContentSecurityPolicy.Create(app.Services.GetRequiredService<IOptions<PusherOptions>>().Value));
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.MapEfNotify(); // GET /pusher/key, POST /pusher/auth and /pusher/user-auth
app.MapEfNotifyDashboard("/efnotify", "Operator"); // alice operates the outbox
app.MapRazorPages();

app.MapPost("/login", async (HttpContext http, IConfiguration config) =>
{
    var form = await http.Request.ReadFormAsync();
    var user = form["user"].ToString();
    if (!SampleContext.DemoUsers.Contains(user) || form["password"] != config["Sample:DemoPassword"])
    {
        return Results.Redirect("/login.html?failed=1");
    }

    var identity = new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, user), new Claim(ClaimTypes.Role, "User"), .. user == "alice" ? [new Claim(ClaimTypes.Role, "Operator")] : Array.Empty<Claim>()],
        CookieAuthenticationDefaults.AuthenticationScheme);
    await http.SignInAsync(new ClaimsPrincipal(identity));
    return Results.Redirect("/");
}).DisableAntiforgery();

app.MapPost("/logout", async (HttpContext http) =>
{
    await http.SignOutAsync();
    return Results.Redirect("/login.html");
});

var api = app.MapGroup("/api").RequireAuthorization();

api.MapGet("/me", (ClaimsPrincipal user) => new { name = user.Identity!.Name });

api.MapGet("/rooms", async (ClaimsPrincipal user, SampleContext db) =>
    await db.Rooms.Where(r => r.Members.Any(m => m.UserName == user.Identity!.Name))
        .OrderBy(r => r.Id).Select(r => new { r.Id, r.Name }).ToListAsync());

api.MapGet("/rooms/{id:int}/messages", async (int id, ClaimsPrincipal user, SampleContext db) =>
    !await IsMemberAsync(db, id, user)
        ? Results.NotFound()
        : Results.Ok(await db.Messages.Where(m => m.RoomId == id).OrderBy(m => m.Id)
            .Select(m => new { m.Id, m.Author, m.Text, m.At }).ToListAsync()));

api.MapPost("/rooms/{id:int}/messages", async (int id, NewMessage message, ClaimsPrincipal user, SampleContext db, TimeProvider time) =>
{
    if (!await IsMemberAsync(db, id, user))
    {
        return Results.NotFound();
    }

    var text = message.Text?.Trim() ?? "";
    if (text.Length is 0 or > 500)
    {
        return Results.BadRequest();
    }

    var entity = new ChatMessage { RoomId = id, Author = user.Identity!.Name!, Text = text, At = time.GetUtcNow().UtcDateTime };
    db.Messages.Add(entity);
    await db.SaveChangesAsync();
    return Results.Ok(new { entity.Id, entity.Author, entity.Text, entity.At });
});

api.MapGet("/tasks", async (SampleContext db) =>
    await db.Tasks.OrderBy(t => t.Id).Select(t => new { t.Id, t.Title, t.Status, t.Assignee }).ToListAsync());

api.MapPut("/tasks/{id:int}", async (int id, TaskChange change, SampleContext db) =>
{
    var task = await db.Tasks.FindAsync(id);
    if (task is null)
    {
        return Results.NotFound();
    }

    if (change.Status is { } status)
    {
        if (status is not ("todo" or "doing" or "done"))
        {
            return Results.BadRequest();
        }

        task.Status = status;
    }

    if (change.Assignee is { } assignee)
    {
        if (!SampleContext.DemoUsers.Contains(assignee))
        {
            return Results.BadRequest();
        }

        task.Assignee = assignee;
    }

    await db.SaveChangesAsync();
    return Results.Ok(new { task.Id, task.Title, task.Status, task.Assignee });
});

// The explicit "notify action": nothing in the database changes, the assignee's own channel gets "reminded".
api.MapPost("/tasks/{id:int}/remind", async (int id, SampleContext db) =>
{
    var task = await db.Tasks.FindAsync(id);
    if (task?.Assignee is not { } assignee)
    {
        return Results.NotFound();
    }

    db.Notify(new Person { UserName = assignee }, "reminded");
    await db.SaveChangesAsync(); // delivered after this commit, like the automatic notifications
    return Results.NoContent();
});

app.Run();

static Task<bool> IsMemberAsync(SampleContext db, int roomId, ClaimsPrincipal user)
    => db.RoomMembers.AnyAsync(m => m.RoomId == roomId && m.UserName == user.Identity!.Name);

internal sealed record NewMessage(string? Text);

internal sealed record TaskChange(string? Status, string? Assignee);

public partial class Program;

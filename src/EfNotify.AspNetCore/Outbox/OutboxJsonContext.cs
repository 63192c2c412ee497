using System.Text.Json;
using System.Text.Json.Serialization;
using EfNotify.AspNetCore.Dashboard;

namespace EfNotify.AspNetCore.Outbox;

/// <summary>The operators' endpoints' answers, in ASP.NET Core's web defaults (camelCase), without reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(OutboxBacklog))]
[JsonSerializable(typeof(IReadOnlyList<DeadLetter>))]
[JsonSerializable(typeof(ReplayRequest))]
[JsonSerializable(typeof(ReplayResult))]
[JsonSerializable(typeof(DashboardActivity))]
internal sealed partial class OutboxJsonContext : JsonSerializerContext;

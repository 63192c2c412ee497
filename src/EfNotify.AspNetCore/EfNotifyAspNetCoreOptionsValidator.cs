using EfNotify.Pusher;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore;

/// <summary>
/// Checks at start-up what the endpoints need, naming each setting by its configuration key and each rule by its type.
/// It asks whether the Pusher signer is registered without building it, so that a bad Pusher setting is reported once,
/// by Pusher's own validation (issue 14).
/// </summary>
internal sealed class EfNotifyAspNetCoreOptionsValidator<TContext>(IServiceProvider services) : IValidateOptions<EfNotifyAspNetCoreOptions>
    where TContext : DbContext
{
    public ValidateOptionsResult Validate(string? name, EfNotifyAspNetCoreOptions options)
    {
        var failures = new List<string>();
        if (options.RequiredRole is { } role && string.IsNullOrWhiteSpace(role))
        {
            failures.Add($"{EfNotifyAspNetCoreOptions.SectionName}:{nameof(options.RequiredRole)} must be a role name, or absent for any authenticated user");
        }

        if (options.RequiredPolicy is { } policy && string.IsNullOrWhiteSpace(policy))
        {
            failures.Add($"{EfNotifyAspNetCoreOptions.SectionName}:{nameof(options.RequiredPolicy)} must be a policy name, or absent for none");
        }

        if (options.ReadRequirement is null)
        {
            failures.Add($"{nameof(EfNotifyAspNetCoreOptions)}.{nameof(options.ReadRequirement)} is required");
        }

        var limit = options.AuthRateLimit;
        if (limit.Enabled && limit.PermitLimit <= 0)
        {
            failures.Add($"{EfNotifyAspNetCoreOptions.SectionName}:{nameof(options.AuthRateLimit)}:{nameof(limit.PermitLimit)} must be positive");
        }

        if (limit.Enabled && limit.Window <= TimeSpan.Zero)
        {
            failures.Add($"{EfNotifyAspNetCoreOptions.SectionName}:{nameof(options.AuthRateLimit)}:{nameof(limit.Window)} must be positive");
        }

        if (services.GetService<IServiceProviderIsService>() is { } registered && !registered.IsService(typeof(PusherChannelAuthorizer)))
        {
            failures.Add("EfNotify's ASP.NET Core endpoints sign with Pusher: call .AddPusher() on the builder returned by AddEfNotify");
        }

        failures.AddRange(UnmappedRuleTypes(options));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private IEnumerable<string> UnmappedRuleTypes(EfNotifyAspNetCoreOptions options)
    {
        if (!options.ObjectRuleTypes.Any() && !options.ListRuleTypes.Any())
        {
            yield break;
        }

        using var scope = services.CreateScope();
        if (scope.ServiceProvider.GetService<TContext>() is not { } context)
        {
            yield return $"EfNotify's ASP.NET Core endpoints load objects through {typeof(TContext).Name}, which is not registered: call AddDbContext<{typeof(TContext).Name}>(...)";
            yield break;
        }

        var mapped = context.Model.GetEntityTypes().Where(e => !e.IsOwned()).Select(e => e.ClrType).ToList();
        foreach (var type in options.ObjectRuleTypes.Where(t => !mapped.Any(t.IsAssignableFrom)))
        {
            yield return $"Allow<{type.Name}>: {type.FullName} is not an entity type of {typeof(TContext).Name}, so the rule would never apply";
        }

        foreach (var type in options.ListRuleTypes.Where(t => !mapped.Contains(t)))
        {
            yield return $"AllowList<{type.Name}>: {type.FullName} is not an entity type of {typeof(TContext).Name}, so the rule would never apply";
        }
    }
}

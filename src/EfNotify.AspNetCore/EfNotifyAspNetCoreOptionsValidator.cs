using EfNotify.Pusher;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore;

/// <summary>Checks at start-up what the endpoints need, naming each setting by its configuration key.</summary>
internal sealed class EfNotifyAspNetCoreOptionsValidator(IServiceProvider services) : IValidateOptions<EfNotifyAspNetCoreOptions>
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

        using var scope = services.CreateScope();
        if (scope.ServiceProvider.GetService<PusherChannelAuthorizer>() is null)
        {
            failures.Add("EfNotify's ASP.NET Core endpoints sign with Pusher: call .AddPusher(...) on the builder returned by AddEfNotify");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

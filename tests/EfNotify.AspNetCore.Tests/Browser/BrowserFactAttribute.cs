using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// A fact that needs headless Chromium and soketi: skipped with the reason when either is missing locally, but run
/// (and so failed) on CI (CI=true), which installs both.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (SoketiServer.IsCi)
        {
            return;
        }

        if (!File.Exists(ChromiumPath))
        {
            Skip = $"Chromium is not installed at {ChromiumPath}: apt-get install -y chromium";
        }
        else if (SoketiServer.UnavailableReason is { } reason)
        {
            Skip = $"soketi is not available: {reason}";
        }
    }
}

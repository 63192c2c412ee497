namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// A fact that needs soketi: skipped with the reason when node_modules is missing locally, but run (and so failed)
/// on CI (CI=true), where a missing server is a broken build, not an excuse.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SoketiFactAttribute : FactAttribute
{
    public SoketiFactAttribute()
    {
        if (SoketiServer.UnavailableReason is { } reason && !SoketiServer.IsCi)
        {
            Skip = $"soketi is not available: {reason}";
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SoketiCollection : ICollectionFixture<SoketiServer>
{
    public const string Name = "soketi";
}

/// <summary>A theory that needs soketi: skipped or failed as <see cref="SoketiFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SoketiTheoryAttribute : TheoryAttribute
{
    public SoketiTheoryAttribute()
    {
        if (SoketiServer.UnavailableReason is { } reason && !SoketiServer.IsCi)
        {
            Skip = $"soketi is not available: {reason}";
        }
    }
}

using EfNotify.Outbox;

namespace EfNotify.Capture;

/// <summary>One configured notification of an entity type.</summary>
internal sealed record NotificationDefinition(
    string Action,
    NotifyChanges On,
    IReadOnlyList<string> WhenChanged,
    string? Via,
    bool ToList,
    IReadOnlyList<string> IncludeValues,
    TimeSpan Coalesce = default)
{
    public static NotificationDefinition FromAttribute(NotifyAttribute attribute)
        => new(attribute.Action, attribute.On, attribute.WhenChanged, attribute.Via, attribute.ToList, attribute.IncludeValues,
            TimeSpan.FromMilliseconds(attribute.CoalesceMilliseconds));
}

/// <summary>
/// The annotations of EfNotify's configuration. Fluent configuration is a model annotation while the model is built; the
/// finished model holds runtime annotations only, which <c>dotnet ef migrations add</c> does not write into migrations and
/// the model snapshot (issue 10; see <see cref="NotifyConvention"/>).
/// </summary>
internal static class NotifyAnnotationNames
{
    public const string Prefix = ModelAnnotations.Prefix;

    /// <summary>The fluent <c>entity.Notify(...)</c> definitions of one entity type.</summary>
    public const string Fluent = Prefix + "Fluent";

    /// <summary>An entity type's notifications (attributes and fluent merged), set by <see cref="NotifyConvention"/>.</summary>
    public const string Definitions = Prefix + "Definitions";

    public const string ChannelName = Prefix + "ChannelName";
    public const string Runtime = Prefix + "Runtime";
}

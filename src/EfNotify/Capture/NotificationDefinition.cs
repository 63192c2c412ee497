namespace EfNotify.Capture;

/// <summary>One configured notification of an entity type, as stored in the model annotation.</summary>
internal sealed record NotificationDefinition(
    string Action,
    NotifyChanges On,
    IReadOnlyList<string> WhenChanged,
    string? Via,
    bool ToList,
    IReadOnlyList<string> IncludeValues)
{
    public static NotificationDefinition FromAttribute(NotifyAttribute attribute)
        => new(attribute.Action, attribute.On, attribute.WhenChanged, attribute.Via, attribute.ToList, attribute.IncludeValues);
}

internal static class NotifyAnnotationNames
{
    public const string Prefix = "EfNotify:";
    public const string FromAttributes = Prefix + "Attributes";
    public const string Fluent = Prefix + "Fluent";
    public const string ChannelName = Prefix + "ChannelName";
    public const string Runtime = Prefix + "Runtime";
    public const string OutboxWriter = Prefix + "OutboxWriter";
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace EfNotify.Capture;

/// <summary>
/// What EfNotify needs of a model at SaveChanges, computed once per model and cached as a runtime annotation,
/// so the hot path does dictionary look-ups instead of reflection.
/// </summary>
internal sealed class NotifyModel
{
    private readonly Dictionary<IEntityType, EntityNotifications> _byType = [];
    private readonly Dictionary<string, IEntityType> _byChannelName = new(StringComparer.Ordinal);

    private NotifyModel(IModel model)
    {
        foreach (var entityType in model.GetEntityTypes())
        {
            var definitions = GetDefinitions(entityType);
            _byChannelName.TryAdd(GetChannelEntityName(entityType), entityType);
            if (definitions.Count > 0)
            {
                _byType[entityType] = new EntityNotifications(entityType, definitions.Select(d => Compile(entityType, d)).ToArray());
            }
        }
    }

    public bool IsEmpty => _byType.Count == 0;

    public static NotifyModel Get(IModel model)
        => (NotifyModel)model.GetOrAddRuntimeAnnotationValue(NotifyAnnotationNames.Runtime, static m => new NotifyModel(m!), model)!;

    public EntityNotifications? Find(IEntityType entityType) => _byType.GetValueOrDefault(entityType);

    /// <summary>The entity type whose channel name is <paramref name="channelEntityName"/>, notified or not.</summary>
    public IEntityType? FindByChannelName(string channelEntityName) => _byChannelName.GetValueOrDefault(channelEntityName);

    /// <summary>The notifications of the entity type, as <see cref="NotifyConvention"/> resolved them when the model was built.</summary>
    public static IReadOnlyList<NotificationDefinition> GetDefinitions(IEntityType entityType)
        => entityType.FindRuntimeAnnotation(NotifyAnnotationNames.Definitions)?.Value
            as IReadOnlyList<NotificationDefinition> ?? [];

    public static string GetChannelEntityName(IEntityType entityType)
        => entityType.FindRuntimeAnnotation(NotifyAnnotationNames.ChannelName)?.Value as string
           ?? NotifyConvention.DefaultChannelName(entityType);

    private static CompiledNotification Compile(IEntityType entityType, NotificationDefinition definition)
        => CompileTarget(entityType, definition) with { CoalesceMilliseconds = (int)Math.Ceiling(definition.Coalesce.TotalMilliseconds) };

    private static CompiledNotification CompileTarget(IEntityType entityType, NotificationDefinition definition)
    {
        var whenChanged = definition.WhenChanged.Select(p => entityType.FindProperty(p)!).ToArray();
        var values = definition.IncludeValues.Select(p => entityType.FindProperty(p)!).ToArray();

        if (definition.ToList)
        {
            var name = GetChannelEntityName(entityType);
            return new CompiledNotification(definition.Action, definition.On, whenChanged, values, name,
                ChannelNames.ForList(name), [], [], IsVia: false);
        }

        if (definition.Via is { } via)
        {
            var foreignKey = (IForeignKey)NotifyConvention.FindViaForeignKey(entityType, via)!;
            var principal = foreignKey.PrincipalEntityType;
            return new CompiledNotification(definition.Action, definition.On, whenChanged, values, GetChannelEntityName(principal),
                ListChannel: null, [.. foreignKey.Properties], [.. foreignKey.PrincipalKey.Properties.Select(Converter)], IsVia: true);
        }

        var key = entityType.FindPrimaryKey()!;
        return new CompiledNotification(definition.Action, definition.On, whenChanged, values, GetChannelEntityName(entityType),
            ListChannel: null, [.. key.Properties], [.. key.Properties.Select(Converter)], IsVia: false);
    }

    private static ValueConverter? Converter(IProperty property) => property.GetTypeMapping().Converter;
}

internal sealed record EntityNotifications(IEntityType EntityType, CompiledNotification[] Notifications);

/// <param name="Action">The event name.</param>
/// <param name="On">The change kinds that fire it.</param>
/// <param name="WhenChanged">For modifications: at least one of these must be modified; empty means any.</param>
/// <param name="IncludeValues">Property values copied into the message.</param>
/// <param name="TargetEntityName">The channel name of the notified entity (the principal for Via).</param>
/// <param name="ListChannel">The list channel, when the notification goes to the list.</param>
/// <param name="KeyProperties">The properties on the changed entity holding the notified object's key (the FK for Via).</param>
/// <param name="KeyConverters">Converters from the key's model values to store values, per key part.</param>
/// <param name="IsVia">Whether the notified object is a principal reached through a foreign key.</param>
internal sealed record CompiledNotification(
    string Action,
    NotifyChanges On,
    IProperty[] WhenChanged,
    IProperty[] IncludeValues,
    string TargetEntityName,
    string? ListChannel,
    IProperty[] KeyProperties,
    ValueConverter?[] KeyConverters,
    bool IsVia)
{
    /// <summary>The coalescing window in milliseconds; 0 for none.</summary>
    public int CoalesceMilliseconds { get; init; }
}

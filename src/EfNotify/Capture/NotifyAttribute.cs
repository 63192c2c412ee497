namespace EfNotify;

/// <summary>
/// Marks an entity type whose committed changes are published as notifications on the given action.
/// Several attributes with different actions may stand on one class. Fluent configuration
/// (<c>entity.Notify("action")</c>) for the same action replaces the attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = true)]
public sealed class NotifyAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="action">
    /// The action name a browser listens for; it becomes the Pusher event name (1 to 200 characters).
    /// </param>
    public NotifyAttribute(string action) => Action = action;

    /// <summary>The action name a browser listens for.</summary>
    public string Action { get; }

    /// <summary>Which changes fire the notification. Default: <see cref="NotifyChanges.All"/>.</summary>
    public NotifyChanges On { get; set; } = NotifyChanges.All;

    /// <summary>
    /// For modifications: the properties of which at least one must have changed for the notification to fire.
    /// Default: empty, any change fires.
    /// </summary>
    public string[] WhenChanged { get; set; } = [];

    /// <summary>
    /// The navigation (or foreign key property) leading to the principal that is notified instead of this object,
    /// for example <c>nameof(Message.Room)</c>. Default: <see langword="null"/>, the object itself is notified.
    /// </summary>
    public string? Via { get; set; }

    /// <summary>
    /// When <see langword="true"/>, the notification goes to the list channel of the entity type
    /// (<c>private-{Entity}</c>) for pages that show collections. Default: <see langword="false"/>.
    /// </summary>
    public bool ToList { get; set; }

    /// <summary>
    /// Property values to include in the message. Default: empty; the message then holds no property values,
    /// only the entity name, key, action, change kind, time and notifier.
    /// </summary>
    public string[] IncludeValues { get; set; } = [];

    /// <summary>
    /// A coalescing window in milliseconds (1 to 10,000), for objects that change many times a second: the first change of a
    /// quiet channel is sent at once, later changes to the same channel and action within the window are held and only the
    /// latest is sent when the window ends, carrying <c>merged</c> (how many changes it stands for). The last change always
    /// arrives. Default: 0, every change is sent.
    /// </summary>
    public int CoalesceMilliseconds { get; set; }
}

/// <summary>The kinds of change that fire a notification.</summary>
[Flags]
public enum NotifyChanges
{
    /// <summary>No change fires it.</summary>
    None = 0,

    /// <summary>The entity was inserted.</summary>
    Added = 1,

    /// <summary>The entity was updated.</summary>
    Modified = 2,

    /// <summary>The entity was deleted.</summary>
    Deleted = 4,

    /// <summary>Inserted, updated or deleted.</summary>
    All = Added | Modified | Deleted,
}

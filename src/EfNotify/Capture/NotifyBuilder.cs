using System.Linq.Expressions;

namespace EfNotify;

/// <summary>Fluent configuration of one notification of an entity type; see <c>entity.Notify("action", n =&gt; ...)</c>.</summary>
/// <typeparam name="TEntity">The entity type.</typeparam>
public sealed class NotifyBuilder<TEntity>
    where TEntity : class
{
    internal NotifyBuilder(string action) => Action = action;

    internal string Action { get; }

    internal NotifyChanges Changes { get; private set; } = NotifyChanges.All;

    internal List<string> WhenChangedProperties { get; } = [];

    internal string? ViaMember { get; private set; }

    internal bool IsList { get; private set; }

    internal List<string> IncludedValues { get; } = [];

    internal TimeSpan CoalesceWindow { get; private set; }

    /// <summary>Fires only for the given kinds of change. Default: all.</summary>
    /// <param name="changes">The kinds of change.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> On(NotifyChanges changes)
    {
        Changes = changes;
        return this;
    }

    /// <summary>For modifications, fires only when at least one of the given properties changed.</summary>
    /// <param name="properties">Property access expressions, for example <c>t =&gt; t.Status</c>.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> WhenChanged(params Expression<Func<TEntity, object?>>[] properties)
    {
        foreach (var property in properties)
        {
            WhenChangedProperties.Add(MemberName(property));
        }

        return this;
    }

    /// <summary>For modifications, fires only when at least one of the named properties changed.</summary>
    /// <param name="propertyNames">The property names.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> WhenChanged(params string[] propertyNames)
    {
        WhenChangedProperties.AddRange(propertyNames);
        return this;
    }

    /// <summary>Notifies the principal reached through the navigation instead of this object.</summary>
    /// <param name="navigation">The reference navigation, for example <c>m =&gt; m.Room</c>.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> Via(Expression<Func<TEntity, object?>> navigation)
    {
        ViaMember = MemberName(navigation);
        return this;
    }

    /// <summary>Notifies the principal reached through the named navigation or foreign key property.</summary>
    /// <param name="navigationOrForeignKey">The navigation or foreign key property name.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> Via(string navigationOrForeignKey)
    {
        ViaMember = navigationOrForeignKey;
        return this;
    }

    /// <summary>Sends the notification to the entity type's list channel (<c>private-{Entity}</c>).</summary>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> ToList()
    {
        IsList = true;
        return this;
    }

    /// <summary>Includes the given property values in the message (opt-in; by default a message holds none).</summary>
    /// <param name="properties">Property access expressions.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> IncludeValues(params Expression<Func<TEntity, object?>>[] properties)
    {
        foreach (var property in properties)
        {
            IncludedValues.Add(MemberName(property));
        }

        return this;
    }

    /// <summary>
    /// Coalesces changes to the same channel and action within <paramref name="window"/> (1 ms to 10 s): the first change
    /// of a quiet channel is sent at once, later ones within the window are held and only the latest is sent when the window
    /// ends, with <c>merged</c> (how many changes it stands for). The last change always arrives. Default: every change is sent.
    /// </summary>
    /// <param name="window">The window; a value outside 1 ms to 10 s fails when the model is built.</param>
    /// <returns>This builder.</returns>
    public NotifyBuilder<TEntity> Coalesce(TimeSpan window)
    {
        CoalesceWindow = window;
        return this;
    }

    internal Capture.NotificationDefinition Build()
        => new(Action, Changes, [.. WhenChangedProperties], ViaMember, IsList, [.. IncludedValues], CoalesceWindow);

    private static string MemberName(Expression<Func<TEntity, object?>> expression)
    {
        var body = expression.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : expression.Body;
        return body is MemberExpression { Expression: ParameterExpression } member
            ? member.Member.Name
            : throw new ArgumentException(
                $"The expression '{expression}' must be a simple property access such as 'e => e.Name'.", nameof(expression));
    }
}

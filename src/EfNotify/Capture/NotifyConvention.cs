using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Metadata.Conventions;
using Microsoft.EntityFrameworkCore.Metadata.Conventions.Infrastructure;

namespace EfNotify.Capture;

/// <summary>
/// Resolves every entity type's notifications when the model is finalized: its <see cref="NotifyAttribute"/>s (read from
/// the CLR type, as EF's data-annotation conventions do), replaced per action by the fluent <c>entity.Notify(...)</c>
/// configuration, and checks them, so that a misconfiguration fails when the model is built, naming the entity and the
/// problem. The fluent configuration's model annotations are then removed and what was resolved becomes runtime
/// annotations once the model is read-only: the design-time model, from which <c>dotnet ef</c> scaffolds migrations and
/// the model snapshot, keeps no annotation of EfNotify's (issue 10).
/// </summary>
/// <remarks>One instance per model build (see <see cref="NotifyConventionSetPlugin"/>), which carries what it resolved
/// from finalizing (the model is still mutable, runtime annotations are refused) to finalized (read-only).</remarks>
internal sealed partial class NotifyConvention : IModelFinalizingConvention, IModelFinalizedConvention
{
    public const int MaxActionLength = 200;

    /// <summary>The longest coalescing window: a held row stays pending in the outbox, and must go out well within a row lease.</summary>
    public static readonly TimeSpan MaxCoalesce = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, (IReadOnlyList<NotificationDefinition> Definitions, string? ChannelName)> _resolved =
        new(StringComparer.Ordinal);

    public void ProcessModelFinalizing(IConventionModelBuilder modelBuilder, IConventionContext<IConventionModelBuilder> context)
    {
        var model = modelBuilder.Metadata;
        _resolved.Clear();
        foreach (var entityType in model.GetEntityTypes())
        {
            var definitions = Resolve(entityType);
            var channelName = entityType.FindAnnotation(NotifyAnnotationNames.ChannelName)?.Value as string;
            if (definitions.Count > 0)
            {
                Validate(entityType, channelName ?? DefaultChannelName(entityType), definitions);
            }

            if (definitions.Count > 0 || channelName is not null)
            {
                _resolved[entityType.Name] = (definitions, channelName);
            }
        }

        foreach (var entityType in model.GetEntityTypes())
        {
            entityType.RemoveAnnotation(NotifyAnnotationNames.Fluent);
            entityType.RemoveAnnotation(NotifyAnnotationNames.ChannelName);
        }

        if (_resolved.Values.Any(r => r.Definitions.Count > 0) && model.FindEntityType(typeof(OutboxMessage)) is null)
        {
            throw new InvalidOperationException(
                "EfNotify: the model has entities marked [Notify] but no outbox table. "
                + "Call modelBuilder.AddEfNotifyOutbox() in OnModelCreating so that notifications are written in the same transaction as the data.");
        }
    }

    /// <summary>Runs before EF copies the read-only model into the runtime model, runtime annotations included.</summary>
    public IModel ProcessModelFinalized(IModel model)
    {
        foreach (var (name, (definitions, channelName)) in _resolved)
        {
            var entityType = model.FindEntityType(name)!;
            if (definitions.Count > 0)
            {
                entityType.SetRuntimeAnnotation(NotifyAnnotationNames.Definitions, definitions);
            }

            if (channelName is not null)
            {
                entityType.SetRuntimeAnnotation(NotifyAnnotationNames.ChannelName, channelName);
            }
        }

        _resolved.Clear();
        return model;
    }

    public static string DefaultChannelName(IReadOnlyEntityType entityType)
        => entityType.HasSharedClrType ? entityType.ShortName() : entityType.ClrType.Name;

    /// <summary>
    /// The notifications of the entity type or, when it has none of its own (attribute or fluent), of its nearest base type
    /// that has some. A fluent notification replaces the attribute of the same action.
    /// </summary>
    private static IReadOnlyList<NotificationDefinition> Resolve(IReadOnlyEntityType entityType)
    {
        for (var type = entityType; type is not null; type = type.BaseType)
        {
            var fromAttributes = type.ClrType == typeof(Dictionary<string, object>)
                ? []
                : type.ClrType.GetCustomAttributes<NotifyAttribute>(inherit: true).Select(NotificationDefinition.FromAttribute).ToArray();
            var fluent = type.FindAnnotation(NotifyAnnotationNames.Fluent)?.Value as IReadOnlyList<NotificationDefinition> ?? [];
            if (fromAttributes.Length > 0 || fluent.Count > 0)
            {
                return [.. fromAttributes.Where(a => !fluent.Any(f => f.Action == a.Action)), .. fluent];
            }
        }

        return [];
    }

    private static void Validate(IReadOnlyEntityType entityType, string channelName, IReadOnlyList<NotificationDefinition> definitions)
    {
        var name = entityType.DisplayName();
        if (entityType.FindPrimaryKey() is null)
        {
            throw Error(name, "is marked [Notify] but has no key; only entities with a key can be notified");
        }

        if (!EntityNameRegex().IsMatch(channelName))
        {
            throw Error(name, $"has the channel name '{channelName}', which may only contain letters, digits and '_' (at most 100 characters)");
        }

        foreach (var definition in definitions)
        {
            var action = definition.Action;
            if (ActionProblem(action) is { } problem)
            {
                throw Error(name, "has " + problem);
            }

            if (definition.Coalesce != TimeSpan.Zero && (definition.Coalesce < TimeSpan.FromMilliseconds(1) || definition.Coalesce > MaxCoalesce))
            {
                throw Error(name, $"has the notification '{action}' with a coalescing window of {definition.Coalesce.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms; it must be between 1 ms and 10,000 ms, or 0 for none");
            }

            if (definition.On == NotifyChanges.None)
            {
                throw Error(name, $"has the notification '{action}' with On = None, so it can never fire");
            }

            foreach (var property in definition.WhenChanged.Concat(definition.IncludeValues))
            {
                if (entityType.FindProperty(property) is null)
                {
                    throw Error(name, $"has the notification '{action}' naming the property '{property}', which '{name}' does not have");
                }
            }

            if (definition.Via is { } via)
            {
                if (definition.ToList)
                {
                    throw Error(name, $"has the notification '{action}' with both Via and ToList; choose one target");
                }

                if (FindViaForeignKey(entityType, via) is null)
                {
                    throw Error(name, $"has the notification '{action}' with Via = '{via}', which is neither a reference navigation nor a foreign key property of '{name}' leading to a principal");
                }
            }
        }
    }

    /// <summary>What is wrong with an action name (as "has …" completes it), or <see langword="null"/> when it is valid.</summary>
    internal static string? ActionProblem(string? action)
    {
        if (string.IsNullOrWhiteSpace(action))
        {
            return "a notification with an empty action name";
        }

        if (action.Length > MaxActionLength)
        {
            return $"the action name '{action[..40]}…' of {action.Length} characters; Pusher event names are at most {MaxActionLength}";
        }

        return action.StartsWith("pusher:", StringComparison.Ordinal) || action.StartsWith("pusher_internal:", StringComparison.Ordinal)
            ? $"the action name '{action}'; names starting with 'pusher:' or 'pusher_internal:' are reserved by Pusher"
            : null;
    }

    internal static IReadOnlyForeignKey? FindViaForeignKey(IReadOnlyEntityType entityType, string via)
    {
        if (entityType.FindNavigation(via) is { IsOnDependent: true } navigation)
        {
            return navigation.ForeignKey;
        }

        if (entityType.FindProperty(via) is { } property)
        {
            return entityType.FindForeignKeys(property).FirstOrDefault(fk => fk.Properties.Count == 1);
        }

        return null;
    }

    private static InvalidOperationException Error(string entityName, string problem)
        => new($"EfNotify: the entity type '{entityName}' {problem}.");

    [GeneratedRegex("^[A-Za-z0-9_]{1,100}$")]
    private static partial Regex EntityNameRegex();
}

internal sealed class NotifyConventionSetPlugin : IConventionSetPlugin
{
    public ConventionSet ModifyConventions(ConventionSet conventionSet)
    {
        var convention = new NotifyConvention();
        conventionSet.ModelFinalizingConventions.Add(convention);
        conventionSet.ModelFinalizedConventions.Insert(0, convention); // before the runtime model is made from the model
        return conventionSet;
    }
}

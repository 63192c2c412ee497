using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Metadata.Conventions;
using Microsoft.EntityFrameworkCore.Metadata.Conventions.Infrastructure;

namespace EfNotify.Capture;

/// <summary>
/// Turns <see cref="NotifyAttribute"/>s into a model annotation when an entity type is added (as EF's own
/// data-annotation conventions do), and checks every notification when the model is finalized, so that a
/// misconfiguration fails when the model is built, naming the entity and the problem.
/// </summary>
internal sealed partial class NotifyConvention : IEntityTypeAddedConvention, IModelFinalizingConvention
{
    public const int MaxActionLength = 200;

    public void ProcessEntityTypeAdded(IConventionEntityTypeBuilder entityTypeBuilder, IConventionContext<IConventionEntityTypeBuilder> context)
    {
        var clrType = entityTypeBuilder.Metadata.ClrType;
        if (clrType == typeof(Dictionary<string, object>))
        {
            return;
        }

        var attributes = clrType.GetCustomAttributes<NotifyAttribute>(inherit: true).ToArray();
        if (attributes.Length == 0)
        {
            return;
        }

        entityTypeBuilder.HasAnnotation(
            NotifyAnnotationNames.FromAttributes,
            attributes.Select(NotificationDefinition.FromAttribute).ToArray(),
            fromDataAnnotation: true);
    }

    public void ProcessModelFinalizing(IConventionModelBuilder modelBuilder, IConventionContext<IConventionModelBuilder> context)
    {
        var model = modelBuilder.Metadata;
        var anyNotify = false;
        foreach (var entityType in model.GetEntityTypes())
        {
            var definitions = NotifyModel.GetDefinitions(entityType);
            if (definitions.Count == 0)
            {
                continue;
            }

            anyNotify = true;
            Validate(entityType, definitions);
        }

        if (anyNotify && model.FindEntityType(typeof(OutboxMessage)) is null)
        {
            throw new InvalidOperationException(
                "EfNotify: the model has entities marked [Notify] but no outbox table. "
                + "Call modelBuilder.AddEfNotifyOutbox() in OnModelCreating so that notifications are written in the same transaction as the data.");
        }
    }

    internal static void Validate(IReadOnlyEntityType entityType, IReadOnlyList<NotificationDefinition> definitions)
    {
        var name = entityType.DisplayName();
        if (entityType.FindPrimaryKey() is null)
        {
            throw Error(name, "is marked [Notify] but has no key; only entities with a key can be notified");
        }

        var channelName = NotifyModel.GetChannelEntityName(entityType);
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
        conventionSet.EntityTypeAddedConventions.Add(convention);
        conventionSet.ModelFinalizingConventions.Add(convention);
        return conventionSet;
    }
}

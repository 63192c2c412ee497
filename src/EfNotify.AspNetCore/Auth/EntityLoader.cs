using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace EfNotify.AspNetCore.Auth;

/// <summary>
/// Loads one object by the key texts of its channel name with a LINQ query, not <c>Find</c>, so that the context's global
/// query filters (tenancy, soft delete) decide whether it exists for this request.
/// </summary>
internal static class EntityLoader
{
    private static readonly MethodInfo LoadMethod = typeof(EntityLoader).GetMethod(nameof(LoadCoreAsync), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo PropertyMethod = typeof(EF).GetMethod(nameof(EF.Property))!;
    private static readonly ConcurrentDictionary<Type, Func<DbContext, IEntityType, object?[], CancellationToken, Task<object?>>> Loaders = new();

    /// <summary>Converts the key texts to the key's model values; <see langword="null"/> when they cannot be this type's key.</summary>
    public static object?[]? ConvertKey(IEntityType entityType, string[] keyParts)
    {
        var key = entityType.FindPrimaryKey();
        if (key is null || key.Properties.Count != keyParts.Length)
        {
            return null;
        }

        var values = new object?[keyParts.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var property = key.Properties[i];
            var converter = property.GetTypeMapping().Converter;
            var storeType = converter?.ProviderClrType ?? property.ClrType;
            if (!ChannelNames.TryConvertKeyText(keyParts[i], storeType, out var storeValue) || storeValue is null)
            {
                return null;
            }

            try
            {
                values[i] = converter is null ? storeValue : converter.ConvertFromProvider(storeValue);
            }
            catch (Exception exception) when (exception is FormatException or ArgumentException or InvalidCastException or OverflowException)
            {
                return null; // a store value the model type cannot hold (an unknown enum name, say) is no object
            }

            if (values[i] is null)
            {
                return null;
            }
        }

        return values;
    }

    public static Task<object?> LoadAsync(DbContext context, IEntityType entityType, object?[] keyValues, CancellationToken cancellationToken)
    {
        var loader = Loaders.GetOrAdd(
            entityType.ClrType,
            static type => LoadMethod.MakeGenericMethod(type).CreateDelegate<Func<DbContext, IEntityType, object?[], CancellationToken, Task<object?>>>());
        return loader(context, entityType, keyValues, cancellationToken);
    }

    private static async Task<object?> LoadCoreAsync<TEntity>(DbContext context, IEntityType entityType, object?[] keyValues, CancellationToken cancellationToken)
        where TEntity : class
    {
        var set = entityType.HasSharedClrType ? context.Set<TEntity>(entityType.Name) : context.Set<TEntity>();
        var parameter = Expression.Parameter(typeof(TEntity), "e");
        Expression? body = null;
        var properties = entityType.FindPrimaryKey()!.Properties;
        for (var i = 0; i < properties.Count; i++)
        {
            var property = properties[i];
            var read = Expression.Call(PropertyMethod.MakeGenericMethod(property.ClrType), parameter, Expression.Constant(property.Name));

            // A member of a captured box becomes a SQL parameter, so every key shares one cached query plan.
            var box = Activator.CreateInstance(typeof(StrongBox<>).MakeGenericType(property.ClrType), keyValues[i])!;
            var value = Expression.Field(Expression.Constant(box), nameof(StrongBox<object>.Value));
            var equal = Expression.Equal(read, value);
            body = body is null ? equal : Expression.AndAlso(body, equal);
        }

        var predicate = Expression.Lambda<Func<TEntity, bool>>(body!, parameter);
        return await set.AsNoTracking().Where(predicate).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
    }
}

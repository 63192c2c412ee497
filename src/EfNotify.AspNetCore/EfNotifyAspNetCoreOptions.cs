using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;

namespace EfNotify.AspNetCore;

/// <summary>
/// Who may subscribe to which channel through <c>POST /pusher/auth</c>. Bound from the configuration section
/// <c>EfNotify:AspNetCore</c> (<see cref="RequiredRole"/>, <see cref="RequiredPolicy"/>) and validated when the host starts;
/// the per-entity rules are set in code.
/// </summary>
/// <remarks>
/// A subscription is granted only when every one of these holds, in order:
/// <list type="number">
/// <item>the user is authenticated (otherwise 401);</item>
/// <item>the user is in <see cref="RequiredRole"/> and meets <see cref="RequiredPolicy"/>, when set (otherwise 403);</item>
/// <item>for an object channel (<c>private-{Entity}.{key}</c>, <c>presence-{Entity}.{key}</c>): the object loads through the
/// application's DbContext, with its global query filters, and the rule of <see cref="Allow{TEntity}"/> grants it; with no rule
/// for the type, <see cref="IAuthorizationService"/> must grant <see cref="ReadRequirement"/> with the entity as resource;</item>
/// <item>for a list channel (<c>private-{Entity}</c>): the rule of <see cref="AllowList{TEntity}"/> grants it.</item>
/// </list>
/// Everything else is refused (403): an entity type with neither a rule nor an authorization handler is never readable.
/// </remarks>
public sealed class EfNotifyAspNetCoreOptions
{
    /// <summary>The configuration section bound by default: <c>EfNotify:AspNetCore</c>.</summary>
    public const string SectionName = "EfNotify:AspNetCore";

    private readonly Dictionary<Type, Func<ClaimsPrincipal, object, bool>> _objectRules = [];
    private readonly Dictionary<Type, Func<ClaimsPrincipal, bool>> _listRules = [];

    /// <summary>
    /// The role a user must have to subscribe to any channel, like the low-code module's "User" module role.
    /// Default: <see langword="null"/>, any authenticated user (the per-object rules still apply).
    /// </summary>
    public string? RequiredRole { get; set; }

    /// <summary>
    /// The name of an authorization policy a user must meet to subscribe to any channel. Default: <see langword="null"/>, none.
    /// </summary>
    public string? RequiredPolicy { get; set; }

    /// <summary>
    /// The requirement checked through <see cref="IAuthorizationService"/>, with the loaded entity as resource, for entity
    /// types that have no <see cref="Allow{TEntity}"/> rule. Default: an <see cref="OperationAuthorizationRequirement"/>
    /// named <c>Read</c>, so an application's existing resource-based "Read" handlers decide.
    /// </summary>
    public IAuthorizationRequirement ReadRequirement { get; set; } = new OperationAuthorizationRequirement { Name = "Read" };

    /// <summary>
    /// Whether <c>presence-{Entity}.{key}</c> channels ("who is viewing this object") may be subscribed to, under the same
    /// rules as the object's private channel. Default: <see langword="true"/>.
    /// </summary>
    public bool AllowPresence { get; set; } = true;

    /// <summary>The per-user rate limit of the authorization endpoints (<c>EfNotify:AspNetCore:AuthRateLimit</c>). Default: on, 100 requests per 10 seconds.</summary>
    public AuthRateLimitOptions AuthRateLimit { get; } = new();

    /// <summary>
    /// Lets a user subscribe to the channel of an object of <typeparamref name="TEntity"/> when <paramref name="rule"/> returns
    /// <see langword="true"/>. The entity is loaded without tracking and without navigations; use an authorization handler
    /// (see <see cref="ReadRequirement"/>) for rules that need the database. Replaces an earlier rule for the same type.
    /// </summary>
    /// <typeparam name="TEntity">The entity type (its CLR type; derived types without a rule of their own use it too).</typeparam>
    /// <param name="rule">Decides for one user and one object.</param>
    /// <returns>These options.</returns>
    public EfNotifyAspNetCoreOptions Allow<TEntity>(Func<ClaimsPrincipal, TEntity, bool> rule)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(rule);
        _objectRules[typeof(TEntity)] = (user, entity) => rule(user, (TEntity)entity);
        return this;
    }

    /// <summary>
    /// Lets a user subscribe to the list channel of <typeparamref name="TEntity"/> (<c>private-{Entity}</c>) when
    /// <paramref name="rule"/> returns <see langword="true"/>. Without a rule, list channels are refused.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="rule">Decides for one user.</param>
    /// <returns>These options.</returns>
    public EfNotifyAspNetCoreOptions AllowList<TEntity>(Func<ClaimsPrincipal, bool> rule)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(rule);
        _listRules[typeof(TEntity)] = rule;
        return this;
    }

    internal Func<ClaimsPrincipal, object, bool>? FindObjectRule(Type clrType)
    {
        for (var type = clrType; type is not null; type = type.BaseType)
        {
            if (_objectRules.TryGetValue(type, out var rule))
            {
                return rule;
            }
        }

        return null;
    }

    internal Func<ClaimsPrincipal, bool>? FindListRule(Type clrType) => _listRules.GetValueOrDefault(clrType);

    internal IEnumerable<Type> ObjectRuleTypes => _objectRules.Keys;

    internal IEnumerable<Type> ListRuleTypes => _listRules.Keys;
}

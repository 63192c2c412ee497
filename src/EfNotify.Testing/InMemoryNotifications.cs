using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Testing;

/// <summary>
/// The transport <c>AddEfNotifyTesting()</c> registers: keeps every event the dispatcher publishes, so a test can await the
/// notification its action should cause. Resolve it from the application's services. The interceptor, the outbox and the
/// dispatcher are EfNotify's real ones: an event arrives here only after its transaction committed.
/// </summary>
/// <example>
/// <code>
/// var notifications = app.Services.GetRequiredService&lt;InMemoryNotifications&gt;();
/// await client.PutAsync("/orders/42", ...);
/// var e = await notifications.WaitFor&lt;Order&gt;(42, "changed");
/// </code>
/// </example>
public sealed class InMemoryNotifications(IServiceProvider services, TimeProvider time) : INotificationTransport
{
    /// <summary>How long the waits wait by default: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly List<PublishedNotification> _published = [];
    private readonly List<(Func<PublishedNotification, bool> Match, TaskCompletionSource<PublishedNotification> Done)> _waiters = [];

    /// <summary>The largest batch the dispatcher hands over at once. Default: 10, as Pusher.</summary>
    public int MaxBatchSize { get; set; } = 10;

    /// <summary>The largest event data in bytes; larger notifications are shrunk as with Pusher. Default: 10,240.</summary>
    public int MaxEventDataBytes { get; set; } = 10_240;

    /// <summary>Everything published so far (or since <see cref="Clear"/>), in order.</summary>
    public IReadOnlyList<PublishedNotification> Published
    {
        get
        {
            lock (_published)
            {
                return [.. _published];
            }
        }
    }

    /// <summary>Forgets what was published so far.</summary>
    public void Clear()
    {
        lock (_published)
        {
            _published.Clear();
        }
    }

    /// <summary>
    /// Waits for a notification of the object of <typeparamref name="TEntity"/> with <paramref name="key"/> and
    /// <paramref name="action"/>, published already or later; the entity's channel name is its CLR type name.
    /// </summary>
    /// <typeparam name="TEntity">The notified entity type (for <c>Via</c>, the principal: <c>WaitFor&lt;Room&gt;(7, "newMessage")</c>).</typeparam>
    /// <param name="key">The key: a value, or an array of the parts of a composite key.</param>
    /// <param name="action">The action, as in <c>[Notify("changed")]</c>.</param>
    /// <param name="timeout">How long to wait. Default: <see cref="DefaultTimeout"/>.</param>
    /// <returns>The first such notification.</returns>
    /// <exception cref="NotificationAssertionException">None came in time; the message lists what did.</exception>
    public Task<PublishedNotification> WaitFor<TEntity>(object key, string action, TimeSpan? timeout = null)
        => WaitFor(typeof(TEntity).Name, key, action, timeout);

    /// <summary>As <see cref="WaitFor{TEntity}(object, string, TimeSpan?)"/>, naming the entity by its channel name.</summary>
    /// <param name="entity">The entity's channel name, for example <c>Order</c>.</param>
    /// <param name="key">The key: a value, or an array of the parts of a composite key.</param>
    /// <param name="action">The action.</param>
    /// <param name="timeout">How long to wait. Default: <see cref="DefaultTimeout"/>.</param>
    /// <returns>The first such notification.</returns>
    /// <exception cref="NotificationAssertionException">None came in time; the message lists what did.</exception>
    public Task<PublishedNotification> WaitFor(string entity, object key, string action, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var keyJson = JsonSerializer.SerializeToElement(key, key.GetType());
        return WaitAsync(n => n.IsObject(entity, keyJson, action), $"{entity} {keyJson.GetRawText()} '{action}'", timeout);
    }

    /// <summary>Waits for a notification on the list channel of <typeparamref name="TEntity"/> (<c>private-{Entity}</c>).</summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="action">The action.</param>
    /// <param name="timeout">How long to wait. Default: <see cref="DefaultTimeout"/>.</param>
    /// <returns>The first such notification.</returns>
    /// <exception cref="NotificationAssertionException">None came in time; the message lists what did.</exception>
    public Task<PublishedNotification> WaitForList<TEntity>(string action, TimeSpan? timeout = null)
    {
        var entity = typeof(TEntity).Name;
        return WaitAsync(n => n.IsList(entity, action), $"list {entity} '{action}'", timeout);
    }

    /// <summary>Throws unless nothing has been published so far. After a commit, prefer <see cref="AssertNothingPublishedAsync"/>.</summary>
    /// <exception cref="NotificationAssertionException">Something was published; the message lists it.</exception>
    public void AssertNothingPublished()
    {
        var published = Published;
        if (published.Count > 0)
        {
            throw new NotificationAssertionException($"Expected no notification, but {published.Count} were published:\n{string.Join('\n', published)}");
        }
    }

    /// <summary>
    /// Waits until the dispatcher has handled every committed outbox row, then throws if anything was published: the
    /// assertion for "this rolled-back or refused change notifies nobody".
    /// </summary>
    /// <param name="timeout">How long the outbox may take to drain. Default: <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes when the assertion holds.</returns>
    /// <exception cref="NotificationAssertionException">Something was published, or rows were still pending at the deadline.</exception>
    public async Task AssertNothingPublishedAsync(TimeSpan? timeout = null)
    {
        await DrainAsync(timeout).ConfigureAwait(false);
        AssertNothingPublished();
    }

    /// <summary>
    /// Waits until the dispatcher has handled every committed outbox row (none is pending), for example the rows of an
    /// application's seed data before a test calls <see cref="Clear"/>.
    /// </summary>
    /// <param name="timeout">How long the outbox may take to drain. Default: <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes when no row is pending.</returns>
    /// <exception cref="NotificationAssertionException">Rows were still pending at the deadline.</exception>
    public async Task DrainAsync(TimeSpan? timeout = null)
    {
        if (services.GetService<IOutboxAdministration>() is not { } outbox)
        {
            return;
        }

        var wait = timeout ?? DefaultTimeout;
        var deadline = time.GetUtcNow() + wait;
        long pending;
        while ((pending = (await outbox.GetBacklogAsync().ConfigureAwait(false)).PendingCount) > 0)
        {
            if (time.GetUtcNow() >= deadline)
            {
                throw new NotificationAssertionException(
                    $"The outbox still had {pending} pending rows after {wait.TotalSeconds:0.#} s: is the dispatcher running (EfNotify:DispatcherEnabled)?");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var read = events.Select(PublishedNotification.Read).ToList();
        List<(TaskCompletionSource<PublishedNotification> Done, PublishedNotification Notification)> completed = [];
        lock (_published)
        {
            _published.AddRange(read);
            foreach (var notification in read)
            {
                foreach (var waiter in _waiters.Where(w => w.Match(notification)).ToList())
                {
                    _waiters.Remove(waiter);
                    completed.Add((waiter.Done, notification));
                }
            }
        }

        foreach (var (done, notification) in completed)
        {
            done.TrySetResult(notification);
        }

        return Task.CompletedTask;
    }

    private async Task<PublishedNotification> WaitAsync(Func<PublishedNotification, bool> match, string what, TimeSpan? timeout)
    {
        var done = new TaskCompletionSource<PublishedNotification>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_published)
        {
            if (_published.FirstOrDefault(match) is { } already)
            {
                return already;
            }

            _waiters.Add((match, done));
        }

        var wait = timeout ?? DefaultTimeout;
        try
        {
            return await done.Task.WaitAsync(wait, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_published)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }

            var published = Published;
            throw new NotificationAssertionException(
                $"No notification {what} within {wait.TotalSeconds:0.#} s. Published ({published.Count}):\n{string.Join('\n', published)}");
        }
    }
}

namespace EfNotify.Outbox;

/// <summary>
/// Told when a commit wrote outbox rows (or an operator made rows due again), so that whatever delivers them need not
/// wait for its next poll. Declared by the outbox, which writers and readers both use; the dispatcher implements it.
/// </summary>
internal interface IOutboxSignal
{
    /// <summary>Rows are ready: wake whoever delivers them.</summary>
    void Notify();
}

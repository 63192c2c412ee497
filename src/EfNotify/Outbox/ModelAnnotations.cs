namespace EfNotify.Outbox;

/// <summary>The prefix of every model annotation EfNotify sets, and of the runtime annotations that cache its SQL per model.</summary>
internal static class ModelAnnotations
{
    public const string Prefix = "EfNotify:";
}

using System.ComponentModel.DataAnnotations;

namespace EfNotify.Pusher;

/// <summary>
/// Where and how EfNotify reaches Pusher Channels (hosted, through <see cref="Cluster"/>) or a server speaking
/// its protocol, such as soketi (self-hosted, through <see cref="Host"/>, <see cref="Port"/> and <see cref="UseTls"/>).
/// </summary>
/// <remarks>
/// Bound from the configuration section <c>EfNotify:Pusher</c> by default and validated when the host starts:
/// <see cref="AppId"/>, <see cref="Key"/> and <see cref="Secret"/> (or <see cref="Secrets"/>) are required, and exactly one of
/// <see cref="Cluster"/> or <see cref="Host"/> must be set.
/// </remarks>
public sealed class PusherOptions
{
    /// <summary>The configuration section bound by default: <c>EfNotify:Pusher</c>.</summary>
    public const string DefaultSectionName = "EfNotify:Pusher";

    /// <summary>The default of <see cref="MaxEventDataBytes"/>: 10,240 bytes, Pusher's limit.</summary>
    public const int DefaultMaxEventDataBytes = 10_240;

    /// <summary>The application id (Pusher dashboard "app_id"). Required.</summary>
    [Required(ErrorMessage = "is required")]
    public string AppId { get; set; } = "";

    /// <summary>The application key, public: browsers connect with it. Required.</summary>
    [Required(ErrorMessage = "is required")]
    public string Key { get; set; } = "";

    /// <summary>
    /// The application secret that signs requests and channel authorizations; never logged. Required, unless
    /// <see cref="Secrets"/> is given instead. Read on every request, so a configuration reload takes effect on the next one.
    /// </summary>
    public string Secret { get; set; } = "";

    /// <summary>
    /// The application secrets while one is rotated: the first signs requests and channel authorizations, and every one
    /// is accepted by <see cref="PusherWebhookVerifier"/>, so a webhook signed with the old secret still verifies. Give
    /// this or <see cref="Secret"/>, not both. Default: empty.
    /// </summary>
    public IList<string> Secrets { get; set; } = [];

    /// <summary>
    /// The Pusher cluster, for example <c>mt1</c> or <c>eu</c>: the REST API is <c>api-{cluster}.pusher.com</c> and
    /// browsers connect to <c>ws-{cluster}.pusher.com</c>. Set this or <see cref="Host"/>, not both. Default: none.
    /// </summary>
    public string? Cluster { get; set; }

    /// <summary>
    /// The host name or IP address of a self-hosted server (for example soketi on <c>127.0.0.1</c>), without scheme
    /// or port. Set this or <see cref="Cluster"/>, not both. Default: none.
    /// </summary>
    public string? Host { get; set; }

    /// <summary>
    /// The port of a self-hosted server (soketi's default is 6001); REST and WebSocket share it. Used with
    /// <see cref="Host"/>. Default: <see langword="null"/>, meaning 443 with TLS and 80 without.
    /// </summary>
    [Range(1, 65535, ErrorMessage = "must be between {1} and {2}")]
    public int? Port { get; set; }

    /// <summary>Whether to use <c>https</c>/<c>wss</c>. Default: <see langword="true"/>. Set <see langword="false"/> for a local soketi.</summary>
    public bool UseTls { get; set; } = true;

    /// <summary>
    /// The largest event data, in UTF-8 bytes, that the server accepts; the dispatcher keeps larger notifications
    /// off the wire. Default: 10,240 (Pusher's limit; soketi's default is 100 KB).
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "must be between {1} and {2}")]
    public int MaxEventDataBytes { get; set; } = DefaultMaxEventDataBytes;

    /// <summary>
    /// Turns on end-to-end encrypted channels: the base64 of 32 random bytes (for example <c>openssl rand -base64 32</c>).
    /// Events of the entities in <see cref="EncryptedEntities"/> then go to <c>private-encrypted-{Entity}.{key}</c>, encrypted
    /// with NaCl secretbox under each channel's shared secret, SHA-256 of the channel name and this key; the server sees only
    /// ciphertext. Keep it as secret as <see cref="Secret"/>; never logged. Default: none, no encryption.
    /// </summary>
    public string? EncryptionMasterKey { get; set; }

    /// <summary>
    /// The entities (as named in their channels, for example <c>Room</c>) whose channels are encrypted when
    /// <see cref="EncryptionMasterKey"/> is set. Default: empty, meaning every entity.
    /// </summary>
    public IList<string> EncryptedEntities { get; } = [];

    /// <summary>How long one HTTP request may take before it fails with a <see cref="TimeoutException"/>. Default: 10 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The secret that signs: the first of <see cref="Secrets"/>, else <see cref="Secret"/>.</summary>
    internal string SigningSecret => Secrets is { Count: > 0 } ? Secrets[0] : Secret;
}

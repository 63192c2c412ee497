using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EfNotify.Channels;

namespace EfNotify.Pusher;

/// <summary>
/// End-to-end encrypted channels as Pusher specifies them: a <c>private-encrypted-</c> channel's shared secret is SHA-256 of
/// its name (UTF-8) followed by the master key, and each event's data is <c>{"nonce":b64,"ciphertext":b64}</c>, NaCl secretbox
/// (XSalsa20-Poly1305) of the data under that secret with a random 24-byte nonce.
/// </summary>
internal sealed class PusherEncryption
{
    public const string ChannelPrefix = PusherProtocol.EncryptedPrefix;
    private const int KeyBytes = 32;
    private const int NonceBytes = 24;
    private const int MacBytes = 16;

    // {"nonce":"<32 base64 characters>","ciphertext":""}
    private const int EnvelopeBytes = 28 + 32;

    private readonly byte[]? _masterKey;
    private readonly HashSet<string>? _entities;

    public PusherEncryption(PusherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.EncryptionMasterKey is { } text)
        {
            _masterKey = TryDecodeMasterKey(text)
                ?? throw new InvalidOperationException("EncryptionMasterKey must be the base64 of exactly 32 bytes.");
            _entities = options.EncryptedEntities.Count == 0 ? null : new HashSet<string>(options.EncryptedEntities, StringComparer.Ordinal);
        }
    }

    /// <summary>Whether a master key is configured.</summary>
    public bool IsEnabled => _masterKey is not null;

    public static byte[]? TryDecodeMasterKey(string text)
    {
        var buffer = new byte[KeyBytes + 1];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) && written == KeyBytes ? buffer[..KeyBytes] : null;
    }

    /// <summary>The largest plaintext whose encrypted envelope still fits <paramref name="limit"/> bytes.</summary>
    public static int PlaintextLimit(int limit) => Math.Max(0, ((limit - EnvelopeBytes) / 4 * 3) - MacBytes);

    /// <summary>Whether events of this entity (the channel's entity name) are encrypted.</summary>
    public bool IsEncryptedEntity(string entityName) => IsEnabled && (_entities is null || _entities.Contains(entityName));

    /// <summary>
    /// The channel an event of <paramref name="privateChannel"/> (<c>private-{Entity}[.{key}]</c>) goes to:
    /// <c>private-encrypted-{Entity}[.{key}]</c> when its entity is encrypted, otherwise <see langword="null"/>.
    /// </summary>
    public string? EncryptedChannelFor(string privateChannel)
    {
        if (!IsEnabled || !privateChannel.StartsWith(PusherProtocol.PrivatePrefix, StringComparison.Ordinal)
            || privateChannel.StartsWith(ChannelPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = privateChannel.AsSpan(PusherProtocol.PrivatePrefix.Length);
        var dot = rest.IndexOf('.');
        var entity = (dot < 0 ? rest : rest[..dot]).ToString();
        return IsEncryptedEntity(entity) ? ChannelPrefix + rest.ToString() : null;
    }

    /// <summary>The shared secret of an encrypted channel: SHA-256(channel name UTF-8 ‖ master key).</summary>
    public byte[] SharedSecret(string channelName)
    {
        var masterKey = _masterKey ?? throw new InvalidOperationException("No EncryptionMasterKey is configured.");
        var name = Encoding.UTF8.GetBytes(channelName);
        var input = new byte[name.Length + masterKey.Length];
        name.CopyTo(input, 0);
        masterKey.CopyTo(input, name.Length);
        return SHA256.HashData(input);
    }

    /// <summary>Encrypts event data for <paramref name="encryptedChannel"/>: <c>{"nonce":..,"ciphertext":..}</c>.</summary>
    public string Encrypt(string encryptedChannel, string data)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var ciphertext = Sodium.SecretBox.Create(Encoding.UTF8.GetBytes(data), nonce, SharedSecret(encryptedChannel));
        // Written by hand: base64 needs no JSON escaping, and the serializer would escape '+' as \u002B, six bytes for one.
        return "{\"nonce\":\"" + Convert.ToBase64String(nonce) + "\",\"ciphertext\":\"" + Convert.ToBase64String(ciphertext) + "\"}";
    }

    /// <summary>Decrypts what <see cref="Encrypt"/> made; <see langword="null"/> when the key or the data does not fit.</summary>
    public string? TryDecrypt(string encryptedChannel, string envelope)
    {
        try
        {
            var parsed = JsonSerializer.Deserialize(envelope, PusherJsonContext.Default.EncryptedData);
            if (parsed?.Nonce is null || parsed.Ciphertext is null)
            {
                return null;
            }

            var plain = Sodium.SecretBox.Open(
                Convert.FromBase64String(parsed.Ciphertext), Convert.FromBase64String(parsed.Nonce), SharedSecret(encryptedChannel));
            return Encoding.UTF8.GetString(plain);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }
}

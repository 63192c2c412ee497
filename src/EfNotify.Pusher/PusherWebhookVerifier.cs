using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace EfNotify.Pusher;

/// <summary>
/// Checks that a webhook request came from the Pusher server: its <c>X-Pusher-Signature</c> header must be the hex
/// HMAC-SHA256 of the raw request body with one of the application's secrets (<see cref="PusherOptions.Secrets"/>, or
/// <see cref="PusherOptions.Secret"/>), so a webhook signed with the old secret still verifies while the secret is rotated.
/// </summary>
/// <remarks>
/// Registered by <c>AddPusher</c>; it reads the secrets as currently configured. Verify the body bytes exactly as received,
/// before parsing them. The comparison takes the same time whichever byte differs.
/// </remarks>
public sealed class PusherWebhookVerifier
{
    /// <summary>The header that carries the signature: <c>X-Pusher-Signature</c>.</summary>
    public const string SignatureHeaderName = "X-Pusher-Signature";

    /// <summary>The header that names the application key the webhook was signed for: <c>X-Pusher-Key</c>.</summary>
    public const string KeyHeaderName = "X-Pusher-Key";

    private readonly IOptionsMonitor<PusherOptions> _options;

    /// <summary>Creates the verifier.</summary>
    /// <param name="options">The application's secrets, as currently configured.</param>
    public PusherWebhookVerifier(IOptionsMonitor<PusherOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Whether <paramref name="signature"/> signs <paramref name="body"/> with one of the configured secrets.</summary>
    /// <param name="signature">The value of the <c>X-Pusher-Signature</c> header; <see langword="null"/> or malformed is not valid.</param>
    /// <param name="body">The raw request body.</param>
    /// <returns><see langword="true"/> when one of the secrets produces the signature.</returns>
    public bool IsValid(string? signature, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(signature) || signature.Length != 64)
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return false;
        }

        var options = _options.CurrentValue;
        var valid = false;
        foreach (var secret in options.Secrets.Count > 0 ? options.Secrets : [options.Secret])
        {
            if (!string.IsNullOrEmpty(secret))
            {
                valid |= CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body), given);
            }
        }

        return valid;
    }
}

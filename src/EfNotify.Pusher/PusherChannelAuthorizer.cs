using System.Text.Json;
using EfNotify.Channels;
using Microsoft.Extensions.Options;

namespace EfNotify.Pusher;

/// <summary>
/// Signs the authorizations a browser needs to subscribe to private and presence channels, and to sign in as a user.
/// Decide first whether the user may see the channel; this class only signs.
/// </summary>
/// <remarks>
/// The returned string is the <c>auth</c> value of the JSON answer to pusher-js (<c>{"auth":"key:signature"}</c>,
/// plus <c>channel_data</c> for presence, <c>shared_secret</c> for an encrypted channel or <c>user_data</c> for sign-in).
/// </remarks>
public sealed class PusherChannelAuthorizer
{
    private readonly Func<PusherOptions> _options;
    private readonly PusherEncryption _encryption;

    /// <summary>Creates an authorizer whose key and secret never change.</summary>
    /// <param name="options">The application key and secret.</param>
    public PusherChannelAuthorizer(IOptions<PusherOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = () => options.Value;
        _encryption = new PusherEncryption(options.Value);
    }

    /// <summary>
    /// Creates an authorizer that signs with the key and secret as currently configured (what <c>AddPusher</c> registers),
    /// so a rotated secret signs the next authorization.
    /// </summary>
    /// <param name="options">The application key and secret.</param>
    public PusherChannelAuthorizer(IOptionsMonitor<PusherOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = () => options.CurrentValue;
        _encryption = new PusherEncryption(options.CurrentValue); // the master key is read once, at start-up
    }

    /// <summary>Signs a subscription to a <c>private-</c> channel.</summary>
    /// <param name="socketId">The connection's socket id, as pusher-js posts it (for example <c>1234.5678</c>).</param>
    /// <param name="channelName">The channel, starting with <c>private-</c>.</param>
    /// <returns>The <c>auth</c> value: <c>{key}:{hex signature}</c>.</returns>
    /// <exception cref="ArgumentException">A malformed socket id, or a channel name that breaks Pusher's grammar, is longer than 164 characters or is not a private channel.</exception>
    /// <remarks>An encrypted channel (<c>private-encrypted-</c>) is signed the same way; its answer also needs <see cref="SharedSecret"/>.</remarks>
    public string AuthorizePrivateChannel(string socketId, string channelName)
    {
        PusherProtocol.ValidateSocketId(socketId, nameof(socketId));
        PusherProtocol.ValidateChannelName(channelName, nameof(channelName));
        PusherProtocol.RequirePrefix(channelName, PusherProtocol.PrivatePrefix, "a private", nameof(channelName));

        return Sign($"{socketId}:{channelName}");
    }

    /// <summary>Signs a subscription to a <c>presence-</c> channel.</summary>
    /// <param name="socketId">The connection's socket id.</param>
    /// <param name="channelName">The channel, starting with <c>presence-</c>.</param>
    /// <param name="channelData">
    /// JSON text <c>{"user_id":..,"user_info":{..}}</c>; answer the browser with exactly this string as <c>channel_data</c>.
    /// </param>
    /// <returns>The <c>auth</c> value: <c>{key}:{hex signature}</c>.</returns>
    /// <exception cref="ArgumentException">A malformed socket id or channel name, or channel data that is not a JSON object with a <c>user_id</c>.</exception>
    public string AuthorizePresenceChannel(string socketId, string channelName, string channelData)
    {
        PusherProtocol.ValidateSocketId(socketId, nameof(socketId));
        PusherProtocol.ValidateChannelName(channelName, nameof(channelName));
        PusherProtocol.RequirePrefix(channelName, PusherProtocol.PresencePrefix, "a presence", nameof(channelName));

        RequireJsonObjectWith(channelData, "user_id", nameof(channelData));
        return Sign($"{socketId}:{channelName}:{channelData}");
    }

    /// <summary>Signs a user sign-in (pusher-js <c>signin()</c>, answered at <c>/pusher/user-auth</c>).</summary>
    /// <param name="socketId">The connection's socket id.</param>
    /// <param name="userData">JSON text with at least an <c>id</c>; answer the browser with exactly this string as <c>user_data</c>.</param>
    /// <returns>The <c>auth</c> value: <c>{key}:{hex signature}</c>.</returns>
    /// <exception cref="ArgumentException">A malformed socket id, or user data that is not a JSON object with an <c>id</c>.</exception>
    public string AuthenticateUser(string socketId, string userData)
    {
        PusherProtocol.ValidateSocketId(socketId, nameof(socketId));
        RequireJsonObjectWith(userData, "id", nameof(userData));
        return Sign($"{socketId}::user::{userData}");
    }

    /// <summary>
    /// The <c>shared_secret</c> of an encrypted channel's answer: base64 of SHA-256(channel name ‖ master key), with
    /// <see cref="PusherOptions.EncryptionMasterKey"/>.
    /// </summary>
    /// <param name="channelName">The channel, starting with <c>private-encrypted-</c>.</param>
    /// <returns>The base64 shared secret.</returns>
    /// <exception cref="ArgumentException">The channel is not an encrypted channel.</exception>
    /// <exception cref="InvalidOperationException">No master key is configured.</exception>
    public string SharedSecret(string channelName)
    {
        PusherProtocol.ValidateChannelName(channelName, nameof(channelName));
        PusherProtocol.RequirePrefix(channelName, PusherProtocol.EncryptedPrefix, "an encrypted", nameof(channelName));

        return Convert.ToBase64String(_encryption.SharedSecret(channelName));
    }

    private string Sign(string value)
    {
        var options = _options();
        return $"{options.Key}:{PusherSignature.HmacHex(options.SigningSecret, value)}";
    }

    private static void RequireJsonObjectWith(string json, string property, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(json, paramName);
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty(property, out _))
            {
                throw new ArgumentException($"The value must be a JSON object with a '{property}' property.", paramName);
            }
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The value is not valid JSON: {ex.Message}", paramName, ex);
        }
    }
}

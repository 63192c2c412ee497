using System.Text.Json.Serialization;

namespace EfNotify.AspNetCore.Auth;

/// <summary>The answer of <c>GET {prefix}/key</c>: pusher-js's constructor arguments, plus which entities are encrypted.</summary>
/// <param name="Key">The application key.</param>
/// <param name="Options">pusher-js's options.</param>
/// <param name="EncryptedEntities"><c>"*"</c> for all, a list of entity names, or absent without encryption.</param>
internal sealed record KeyResponse(
    string Key,
    ConnectionOptions Options,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? EncryptedEntities);

/// <summary>pusher-js's options as efnotify.js passes them on (camelCase, as pusher-js names them).</summary>
internal sealed record ConnectionOptions(
    string? Cluster,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WsHost,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? WsPort,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? WssPort,
    [property: JsonPropertyName("forceTLS")] bool ForceTls,
    IReadOnlyList<string> EnabledTransports,
    AuthEndpoint ChannelAuthorization,
    AuthEndpoint UserAuthentication);

/// <summary>Where pusher-js posts a channel authorization or a sign-in.</summary>
internal sealed record AuthEndpoint(string Endpoint, string Transport = "ajax");

/// <summary>The answer of <c>POST {prefix}/auth</c>, as pusher-js reads it.</summary>
/// <param name="Auth"><c>{key}:{hex signature}</c>.</param>
/// <param name="ChannelData">The presence member, exactly the JSON text that was signed; presence channels only.</param>
/// <param name="SharedSecret">The channel's base64 secret; <c>private-encrypted-</c> channels only.</param>
internal sealed record ChannelAuthResponse(
    [property: JsonPropertyName("auth")] string Auth,
    [property: JsonPropertyName("channel_data"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ChannelData = null,
    [property: JsonPropertyName("shared_secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SharedSecret = null);

/// <summary>The answer of <c>POST {prefix}/user-auth</c>: the signature and exactly the user data it covers.</summary>
internal sealed record UserAuthResponse(
    [property: JsonPropertyName("auth")] string Auth,
    [property: JsonPropertyName("user_data")] string UserData);

/// <summary>A presence channel's member: <c>{"user_id":..,"user_info":{"name":..}}</c>.</summary>
internal sealed record PresenceMember(
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("user_info")] PresenceMemberInfo UserInfo);

/// <summary>What other members see of a presence member.</summary>
internal sealed record PresenceMemberInfo([property: JsonPropertyName("name")] string Name);

/// <summary>The signed-in user's data: <c>{"id":..}</c>.</summary>
internal sealed record SignedInUser([property: JsonPropertyName("id")] string Id);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(KeyResponse))]
[JsonSerializable(typeof(ChannelAuthResponse))]
[JsonSerializable(typeof(UserAuthResponse))]
[JsonSerializable(typeof(PresenceMember))]
[JsonSerializable(typeof(SignedInUser))]
[JsonSerializable(typeof(string))] // the "*" of EncryptedEntities
[JsonSerializable(typeof(string[]))] // or its list
internal sealed partial class PusherResponseJsonContext : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace EfNotify.Pusher;

internal sealed class TriggerRequest
{
    public required string Name { get; init; }

    public required string Data { get; init; }

    public required IReadOnlyList<string> Channels { get; init; }

    public string? SocketId { get; init; }
}

internal sealed class BatchRequest
{
    public required IReadOnlyList<BatchItem> Batch { get; init; }
}

internal sealed class BatchItem
{
    public required string Channel { get; init; }

    public required string Name { get; init; }

    public required string Data { get; init; }

    public string? SocketId { get; init; }
}

internal sealed class ChannelResponse
{
    public bool Occupied { get; init; }

    public int? SubscriptionCount { get; init; }

    public int? UserCount { get; init; }
}

internal sealed class EncryptedData
{
    public string? Nonce { get; init; }

    public string? Ciphertext { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TriggerRequest))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(ChannelResponse))]
[JsonSerializable(typeof(EncryptedData))]
internal sealed partial class PusherJsonContext : JsonSerializerContext;

using System.Security.Cryptography;
using System.Text;
using EfNotify.Pusher;

namespace EfNotify.Tests.Pusher;

/// <summary>Issue 16: end-to-end encrypted channels as Pusher specifies them.</summary>
public class PusherEncryptionTests
{
    private static readonly byte[] MasterKey = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static PusherOptions Options(params string[] entities) => PusherTestOptions.Create(o =>
    {
        o.EncryptionMasterKey = Convert.ToBase64String(MasterKey);
        foreach (var entity in entities)
        {
            o.EncryptedEntities.Add(entity);
        }
    });

    [Fact]
    public void The_shared_secret_is_SHA256_of_the_channel_name_followed_by_the_master_key()
    {
        var authorizer = new PusherChannelAuthorizer(Microsoft.Extensions.Options.Options.Create(Options()));
        var expected = SHA256.HashData([.. Encoding.UTF8.GetBytes("private-encrypted-Room.2"), .. MasterKey]);

        Assert.Equal(Convert.ToBase64String(expected), authorizer.SharedSecret("private-encrypted-Room.2"));

        // The auth itself is a private channel's signature over the encrypted channel's name.
        Assert.Equal(
            "278d425bdf160c739803:" + PusherSignature.HmacHex(PusherTestOptions.Secret, "1234.1234:private-encrypted-Room.2"),
            authorizer.AuthorizePrivateChannel("1234.1234", "private-encrypted-Room.2"));
    }

    [Fact]
    public void Data_is_a_nonce_and_a_secretbox_ciphertext_that_only_the_channels_secret_opens()
    {
        var encryption = new PusherEncryption(Options());
        var envelope = encryption.Encrypt("private-encrypted-Room.2", """{"entity":"Room","key":2}""");

        Assert.Matches("""^\{"nonce":"[A-Za-z0-9+/=]{32}","ciphertext":"[A-Za-z0-9+/=]+"\}$""", envelope);
        Assert.DoesNotContain("Room", envelope, StringComparison.Ordinal);
        Assert.Equal("""{"entity":"Room","key":2}""", encryption.TryDecrypt("private-encrypted-Room.2", envelope));
        Assert.Null(encryption.TryDecrypt("private-encrypted-Room.3", envelope));
        var otherKey = new PusherEncryption(PusherTestOptions.Create(o => o.EncryptionMasterKey = Convert.ToBase64String(new byte[32])));
        Assert.Null(otherKey.TryDecrypt("private-encrypted-Room.2", envelope));
    }

    [Theory]
    [InlineData("private-Room.2", "private-encrypted-Room.2")]
    [InlineData("private-Room", "private-encrypted-Room")]
    [InlineData("private-Order.42", null)]
    [InlineData("presence-Room.2", null)]
    public void Only_the_chosen_entities_channels_are_encrypted(string channel, string? expected) =>
        Assert.Equal(expected, new PusherEncryption(Options("Room")).EncryptedChannelFor(channel));

    [Fact]
    public void Without_a_list_every_entity_is_encrypted_and_without_a_key_none()
    {
        Assert.Equal("private-encrypted-Order.42", new PusherEncryption(Options()).EncryptedChannelFor("private-Order.42"));
        Assert.Null(new PusherEncryption(PusherTestOptions.Create()).EncryptedChannelFor("private-Order.42"));
    }

    [Theory]
    [InlineData(10_240)]
    [InlineData(1_000)]
    [InlineData(102_400)]
    public void The_plaintext_limit_is_the_largest_plaintext_whose_envelope_fits(int limit)
    {
        var encryption = new PusherEncryption(Options());
        var largest = PusherEncryption.PlaintextLimit(limit);

        Assert.True(Encoding.UTF8.GetByteCount(encryption.Encrypt("private-encrypted-A.1", new string('x', largest))) <= limit);
        Assert.True(Encoding.UTF8.GetByteCount(encryption.Encrypt("private-encrypted-A.1", new string('x', largest + 1))) > limit);
    }

    [Theory]
    [InlineData("not base64")]
    [InlineData("AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 37 bytes
    public void A_master_key_that_is_not_32_bytes_of_base64_fails_validation_naming_the_setting(string key)
    {
        var result = new PusherOptionsValidator("EfNotify:Pusher").Validate(null, PusherTestOptions.Create(o => o.EncryptionMasterKey = key));

        Assert.True(result.Failed);
        Assert.Contains("EfNotify:Pusher:EncryptionMasterKey must be the base64 of exactly 32 bytes", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(key, result.FailureMessage, StringComparison.Ordinal);
    }
}

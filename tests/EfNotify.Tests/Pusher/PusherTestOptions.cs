using EfNotify.Pusher;

namespace EfNotify.Tests.Pusher;

internal static class PusherTestOptions
{
    // The key and secret of the test vectors in Pusher's documentation.
    public const string Key = "278d425bdf160c739803";
    public const string Secret = "7ad3773142a6692b25b8";

    public static PusherOptions Create(Action<PusherOptions>? change = null)
    {
        var options = new PusherOptions { AppId = "3", Key = Key, Secret = Secret, Host = "soketi.test", Port = 6001, UseTls = false };
        change?.Invoke(options);
        return options;
    }
}

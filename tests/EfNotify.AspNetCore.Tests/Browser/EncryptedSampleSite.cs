using Microsoft.AspNetCore.Hosting;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>The sample with end-to-end encryption for its chat rooms: a master key, and <c>Room</c> as the encrypted entity.</summary>
public sealed class EncryptedSampleSite : SampleSite
{
    public static readonly string MasterKey = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray());

    protected override IWebHostBuilder Configure(IWebHostBuilder web) => web
        .UseSetting("EfNotify:Pusher:EncryptionMasterKey", MasterKey)
        .UseSetting("EfNotify:Pusher:EncryptedEntities:0", "Room");
}

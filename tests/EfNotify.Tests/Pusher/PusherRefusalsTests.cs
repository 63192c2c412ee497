using EfNotify.Pusher;

namespace EfNotify.Tests.Pusher;

/// <summary>
/// Issue 17: what a refusal concerns decides between pausing (the application) and dead-lettering (the event). The
/// messages are the servers' own words; where each comes from is said beside it.
/// </summary>
public class PusherRefusalsTests
{
    public static TheoryData<int?, string, string> Refusals => new()
    {
        // Hosted Pusher, 401, a clock more than 600 s off: pusher/pusher-http-ruby issue #49 (raised for a 401).
        { 401, "Timestamp expired: Given timestamp (2013-09-29T08:46:33Z) not within 600s of server time (2013-09-29T08:36:32Z)", nameof(PusherRefusalKind.Application) },

        // Hosted Pusher, 401, a wrong secret: pusher/pusher-http-go issue #91 ("Status Code: 401 - Invalid signature: ...").
        { 401, "Invalid signature: you should have sent HmacSHA256Hex(\"POST\\n/apps/PUSHER_APPID/events\\nauth_key=PUSHER_KEY&auth_timestamp=1701978133&auth_version=1.0&body_md5=5c97a1d17397906fcfbfb622622a2b59\", your_secret_key), but you sent \"e2abd797832ba0fe963c77dd2656aae135a2bd2e45afc9d419ac3a7e2ae59765\"", nameof(PusherRefusalKind.Application) },

        // Hosted Pusher answers 400 to a key it does not know (a wrong key, or the right key on the wrong cluster):
        // pusher/pusher-http-php issue #118 ("[body] => Unknown auth_key [status] => 400"), pusher-http-ruby issue #96.
        { 400, "Unknown auth_key", nameof(PusherRefusalKind.Application) },

        // Hosted Pusher, 403: the HTTP API reference (pusher.com/docs/channels/library_auth_reference/rest-api) documents
        // "403 Forbidden: app disabled or over message quota"; the older publishing guide "403 Forbidden - You have
        // exceeded your daily message quota." No captured body of a real 403 was found, so these are the documented words.
        { 403, "Forbidden: app disabled or over message quota", nameof(PusherRefusalKind.Application) },
        { 403, "You have exceeded your daily message quota.", nameof(PusherRefusalKind.Application) },
        { 403, "", nameof(PusherRefusalKind.Application) },

        // The same words without a status (a server that puts no code in its error body) still concern the application.
        { null, "You have exceeded your daily message quota.", nameof(PusherRefusalKind.Application) },
        { null, "Application disabled", nameof(PusherRefusalKind.Application) },
        { null, "Account over quota", nameof(PusherRefusalKind.Application) }, // pusher-js error 4004, as reported in codewars/codewars.com issue #102

        // soketi 1.6.1 (node_modules/@soketi/soketi/dist/http-handler.js): its answers carry the code in the body.
        { 401, "The secret authentication failed", nameof(PusherRefusalKind.Application) },
        { 404, "The app efnotify-app-1 could not be found.", nameof(PusherRefusalKind.Application) },
        { null, "The app efnotify-app-1 could not be found.", nameof(PusherRefusalKind.Application) },
        { 400, "The received data is incorrect", nameof(PusherRefusalKind.Event) },
        { 400, "Cannot batch-send more than 10 messages at once", nameof(PusherRefusalKind.Event) },
        { 400, "Cannot broadcast to more than 100 channels at once", nameof(PusherRefusalKind.Event) },
        { 400, "Event name is too long. Maximum allowed size is 200.", nameof(PusherRefusalKind.Event) },
        { 413, "The event data should be less than 100 KB.", nameof(PusherRefusalKind.Event) },
        { 429, "Too many requests.", nameof(PusherRefusalKind.Transient) },
        { 500, "A server error has occurred.", nameof(PusherRefusalKind.Transient) },

        // Hosted Pusher's documented event refusals (the publishing guide): 400 for data that is not UTF-8, 413 for size.
        { 400, "The message should always be encoded as UTF-8.", nameof(PusherRefusalKind.Event) },
        { 413, "Request Entity Too Large", nameof(PusherRefusalKind.Event) },

        // A refusal of one event may quote its channel or event name; names hold no spaces, so they never read as a phrase.
        { 400, "Invalid channel name: private-Quota.disabled", nameof(PusherRefusalKind.Event) },
        { 400, "Invalid event name: signature_timestamp", nameof(PusherRefusalKind.Event) },

        // A 413 is about the event's size even when its words would say otherwise; a 429 or 5xx is transient.
        { 413, "over quota", nameof(PusherRefusalKind.Event) },
        { 429, "over quota", nameof(PusherRefusalKind.Transient) },
        { 408, "", nameof(PusherRefusalKind.Transient) },
        { 503, "Service unavailable", nameof(PusherRefusalKind.Transient) },
        { null, "nope", nameof(PusherRefusalKind.Event) },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_refusal_is_classified_by_its_status_and_message(int? code, string message, string expected)
        => Assert.Equal(Enum.Parse<PusherRefusalKind>(expected), PusherRefusals.Classify(code, message));
}

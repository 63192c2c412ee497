using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EfNotify.Pusher;

/// <summary>
/// Pusher's request and authorization signatures: lowercase hex HMAC-SHA256 with the application secret.
/// The secret goes into the HMAC only; it never appears in a string this class returns.
/// </summary>
internal static class PusherSignature
{
    public const string AuthVersion = "1.0";

    public static string BodyMd5(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(MD5.HashData(body));

    public static string HmacHex(string secret, string value) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(value)));

    /// <summary>
    /// <c>METHOD\nPATH\nk=v&amp;k=v</c> with lowercase keys sorted ordinally and values left unescaped,
    /// as the server rebuilds it.
    /// </summary>
    public static string StringToSign(string method, string path, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var query = string.Join('&', Sorted(parameters).Select(p => $"{p.Key}={p.Value}"));
        return $"{method.ToUpperInvariant()}\n{path}\n{query}";
    }

    /// <summary>
    /// The query string of a signed request (without the leading '?'): the auth parameters, <c>body_md5</c> when there
    /// is a body, the caller's parameters, and <c>auth_signature</c>, all percent-encoded.
    /// </summary>
    public static string SignedQuery(
        string method,
        string path,
        string key,
        string secret,
        DateTimeOffset now,
        IEnumerable<KeyValuePair<string, string>> parameters,
        ReadOnlySpan<byte> body,
        bool hasBody)
    {
        var all = new List<KeyValuePair<string, string>>(parameters)
        {
            new("auth_key", key),
            new("auth_timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new("auth_version", AuthVersion),
        };
        if (hasBody)
        {
            all.Add(new("body_md5", BodyMd5(body)));
        }

        var sorted = Sorted(all);
        var signature = HmacHex(secret, StringToSign(method, path, sorted));

        var builder = new StringBuilder();
        foreach (var (name, value) in sorted)
        {
            builder.Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
        }

        return builder.Append("auth_signature=").Append(signature).ToString();
    }

    private static List<KeyValuePair<string, string>> Sorted(IEnumerable<KeyValuePair<string, string>> parameters) =>
        parameters
            .Select(p => new KeyValuePair<string, string>(p.Key.ToLowerInvariant(), p.Value))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToList();
}

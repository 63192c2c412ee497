using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EfNotify.Pusher;

/// <summary>
/// Validates <see cref="PusherOptions"/> and names each bad setting by its configuration key
/// (for example "EfNotify:Pusher:Secret is required"), which DataAnnotations alone cannot do.
/// </summary>
internal sealed partial class PusherOptionsValidator : IValidateOptions<PusherOptions>
{
    private readonly string _sectionName;

    public PusherOptionsValidator(string sectionName) => _sectionName = sectionName;

    public ValidateOptionsResult Validate(string? name, PusherOptions options)
    {
        var failures = new List<string>();

        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        foreach (var result in results)
        {
            foreach (var member in result.MemberNames)
            {
                failures.Add($"{Setting(member)} {result.ErrorMessage}");
            }
        }

        ValidateSecrets(options, failures);
        var hasCluster = !string.IsNullOrWhiteSpace(options.Cluster);
        var hasHost = !string.IsNullOrWhiteSpace(options.Host);
        if (!hasCluster && !hasHost)
        {
            failures.Add($"Either {Setting(nameof(PusherOptions.Cluster))} (hosted Pusher) or {Setting(nameof(PusherOptions.Host))} (self-hosted server) is required");
        }
        else if (hasCluster && hasHost)
        {
            failures.Add($"Set either {Setting(nameof(PusherOptions.Cluster))} or {Setting(nameof(PusherOptions.Host))}, not both");
        }
        else if (hasCluster && !ClusterPattern().IsMatch(options.Cluster!))
        {
            failures.Add($"{Setting(nameof(PusherOptions.Cluster))} must be a cluster name such as 'mt1' or 'eu'");
        }
        else if (hasHost && Uri.CheckHostName(options.Host) == UriHostNameType.Unknown)
        {
            failures.Add($"{Setting(nameof(PusherOptions.Host))} must be a host name or IP address, without scheme or port");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Setting(nameof(PusherOptions.RequestTimeout))} must be positive");
        }

        if (options.EncryptionMasterKey is { } masterKey && PusherEncryption.TryDecodeMasterKey(masterKey) is null)
        {
            failures.Add($"{Setting(nameof(PusherOptions.EncryptionMasterKey))} must be the base64 of exactly 32 bytes");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidateSecrets(PusherOptions options, List<string> failures)
    {
        var secrets = options.Secrets ?? [];
        var hasSecret = !string.IsNullOrEmpty(options.Secret);
        if (!hasSecret && secrets.Count == 0)
        {
            failures.Add($"{Setting(nameof(PusherOptions.Secret))} is required (or {Setting(nameof(PusherOptions.Secrets))}, a list whose first entry signs)");
        }
        else if (hasSecret && secrets.Count > 0)
        {
            failures.Add($"Set either {Setting(nameof(PusherOptions.Secret))} or {Setting(nameof(PusherOptions.Secrets))}, not both");
        }

        for (var i = 0; i < secrets.Count; i++)
        {
            if (string.IsNullOrEmpty(secrets[i]))
            {
                failures.Add($"{Setting(nameof(PusherOptions.Secrets))}:{i} must not be empty");
            }
        }
    }

    private string Setting(string member) => $"{_sectionName}:{member}";

    [GeneratedRegex("^[a-z0-9-]+$")]
    private static partial Regex ClusterPattern();
}

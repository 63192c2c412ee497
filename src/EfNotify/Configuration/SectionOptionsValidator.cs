using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace EfNotify.Configuration;

/// <summary>
/// Checks an options class's DataAnnotations and names each bad setting by its configuration key
/// (<c>EfNotify:ClaimBatchSize …</c>), one message per problem.
/// </summary>
internal sealed class SectionOptionsValidator<TOptions>(string sectionName) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = results
            .SelectMany(r => r.MemberNames.DefaultIfEmpty("").Select(member => $"{sectionName}:{member} is invalid: {r.ErrorMessage}"))
            .ToList();
        return ValidateOptionsResult.Fail(failures);
    }
}

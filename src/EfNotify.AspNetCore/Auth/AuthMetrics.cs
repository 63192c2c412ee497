using System.Diagnostics.Metrics;

namespace EfNotify.AspNetCore.Auth;

/// <summary>The <c>efnotify.auth.denied</c> counter of EfNotify's meter, tagged by reason.</summary>
internal sealed class AuthMetrics : IDisposable
{
    /// <summary>The counter's name.</summary>
    public const string DeniedCounterName = "efnotify.auth.denied";

    /// <summary>The tag that says why: <c>efnotify.auth.reason</c>.</summary>
    public const string ReasonTagName = "efnotify.auth.reason";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _denied;

    public AuthMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(new MeterOptions(EfNotifyDiagnostics.MeterName)) ?? new Meter(EfNotifyDiagnostics.MeterName);
        _denied = _meter.CreateCounter<long>(
            DeniedCounterName,
            "{request}",
            "Requests to /pusher/auth and /pusher/user-auth answered with a refusal, by reason: unauthenticated (401), malformed (400), forbidden (403), rate_limited (429), failed (403 after an error).");
    }

    public void Denied(string reason) => _denied.Add(1, new KeyValuePair<string, object?>(ReasonTagName, reason));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

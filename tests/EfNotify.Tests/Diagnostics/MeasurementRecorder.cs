using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace EfNotify.Tests.Diagnostics;

/// <summary>
/// Records the measurements of the EfNotify meter that one service provider's <see cref="IMeterFactory"/> created, so
/// tests running in parallel do not see each other's numbers.
/// </summary>
public sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

    public MeasurementRecorder(IMeterFactory scope)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EfNotifyDiagnostics.MeterName && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.Start();
    }

    public IReadOnlyList<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> Measurements => [.. _measurements];

    public double Sum(string instrument) => Values(instrument).Sum();

    public List<double> Values(string instrument) => Measurements.Where(m => m.Instrument == instrument).Select(m => m.Value).ToList();

    /// <summary>Asks the observable gauges for their current values, then returns the last one of <paramref name="instrument"/>.</summary>
    public double? Observe(string instrument)
    {
        _listener.RecordObservableInstruments();
        return Measurements.LastOrDefault(m => m.Instrument == instrument) is { Instrument: not null } last ? last.Value : null;
    }

    public void Dispose() => _listener.Dispose();
}

using EfNotify.Diagnostics;
using EfNotify.Outbox;

namespace EfNotify.Capture;

/// <summary>The application's services a unit of work needs: the clock, the notifier, and what a commit reports to.</summary>
internal sealed class CaptureEnvironment(TimeProvider time, INotifierContext notifier, IOutboxSignal signal, EfNotifyInstrumentation instrumentation)
{
    public TimeProvider Time => time;

    public CaptureContext Context() => ChangeCapture.Now(time, notifier);

    /// <summary>Rows holding <paramref name="count"/> notifications committed: count them and wake the dispatcher.</summary>
    public void Committed(int count)
    {
        instrumentation.Captured(count);
        signal.Notify();
    }
}

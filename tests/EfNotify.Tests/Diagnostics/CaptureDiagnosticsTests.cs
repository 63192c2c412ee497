using System.Diagnostics;
using System.Diagnostics.Metrics;
using EfNotify.Tests.TestModel;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Tests.Diagnostics;

/// <summary>Capture reports the notifications of committed transactions, and a span around the outbox write.</summary>
[Collection(Outbox.ActivityListenerCollection.Name)]
public class CaptureDiagnosticsTests
{
    public static TheoryData<bool> Async => new() { false, true };

    [Theory]
    [MemberData(nameof(Async))]
    public async Task The_captured_counter_counts_the_notifications_of_committed_transactions_only(bool async)
    {
        using var fixture = new ShopFixture(configure: s => s.AddMetrics());
        using var recorder = new MeasurementRecorder(fixture.Services.GetRequiredService<IMeterFactory>());

        using (var db = fixture.CreateContext())
        {
            db.Orders.AddRange(new Order { Title = "a" }, new Order { Title = "b" }, new Order { Title = "c" });
            await Save(db, async);
        }

        using (var db = fixture.CreateContext())
        {
            using var transaction = db.Database.BeginTransaction();
            db.Orders.AddRange(new Order { Title = "d" }, new Order { Title = "e" });
            await Save(db, async);
            transaction.Rollback();
        }

        using (var db = fixture.CreateContext())
        {
            using var transaction = db.Database.BeginTransaction();
            db.Orders.Add(new Order { Title = "f" });
            await Save(db, async);
            transaction.Commit();
        }

        Assert.Equal(4, fixture.Notifications().Count);
        Assert.Equal(4, recorder.Sum(EfNotifyDiagnostics.CapturedCounterName));
        Assert.Equal([3d, 1d], recorder.Values(EfNotifyDiagnostics.CapturedCounterName));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task The_capture_span_is_a_child_of_the_current_activity_and_tells_how_many_notifications_it_wrote(bool async)
    {
        using var source = new ActivitySource("EfNotify.Tests." + Guid.NewGuid());
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EfNotifyDiagnostics.ActivitySourceName || s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var fixture = new ShopFixture();

        using (var parent = source.StartActivity("request"))
        {
            using var db = fixture.CreateContext();
            db.Orders.AddRange(new Order { Title = "a" }, new Order { Title = "b" });
            await Save(db, async);

            Activity capture;
            lock (stopped)
            {
                capture = Assert.Single(stopped, a => a.OperationName == EfNotifyDiagnostics.CaptureActivityName && a.ParentSpanId == parent!.SpanId);
            }

            Assert.Equal(2, capture.GetTagItem("efnotify.notifications.count"));
            Assert.Equal(ActivityStatusCode.Unset, capture.Status);
        }
    }

    private static Task Save(ShopContext db, bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());
}

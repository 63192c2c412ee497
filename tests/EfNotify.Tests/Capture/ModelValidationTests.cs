using EfNotify.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Tests.Capture;

/// <summary>Misconfigured notifications fail when the model is built, naming the entity and the problem.</summary>
public class ModelValidationTests
{
    [Notify("changed", Via = "Nowhere")]
    public class BadVia
    {
        public int Id { get; set; }
    }

    [Notify("")]
    public class EmptyAction
    {
        public int Id { get; set; }
    }

    [Notify("changed", WhenChanged = ["Missing"])]
    public class BadProperty
    {
        public int Id { get; set; }
    }

    [Notify("pusher:internal")]
    public class ReservedAction
    {
        public int Id { get; set; }
    }

    [Notify("changed", CoalesceMilliseconds = 20_000)]
    public class SlowWindow
    {
        public int Id { get; set; }
    }

    [Notify("changed")]
    public class NoKey
    {
        public string Name { get; set; } = "";
    }

    [Notify("renamed", On = NotifyChanges.Modified, WhenChanged = [nameof(Name)], IncludeValues = [nameof(Name)])]
    public class Watched
    {
        public int Id { get; set; }

        public string Name { get; set; } = "";
    }

    public class Plain
    {
        public int Id { get; set; }

        public string Name { get; set; } = "";
    }

    private sealed class TestContext(DbContextOptions options, Action<ModelBuilder> build) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) => build(modelBuilder);
    }

    private sealed class CacheKeyFactory : Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory
    {
        public object Create(DbContext context, bool designTime) => Guid.NewGuid();
    }

    private static DbContext Build(Action<ModelBuilder> build)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddEfNotify<DbContext>();
        var provider = services.BuildServiceProvider();
        var options = new DbContextOptionsBuilder()
            .UseSqlite(new SqliteConnection("Data Source=:memory:"))
            .UseEfNotify(provider)
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, CacheKeyFactory>()
            .Options;
        return new TestContext(options, build);
    }

    private static InvalidOperationException ModelError(Action<ModelBuilder> build)
    {
        using var db = Build(build);
        return Assert.Throws<InvalidOperationException>(() => db.Model);
    }

    [Fact]
    public void Via_that_leads_nowhere_names_the_entity_and_the_member()
    {
        var error = ModelError(m => { m.Entity<BadVia>(); m.AddEfNotifyOutbox(); });
        Assert.Contains("'BadVia'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Nowhere'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_action_is_refused()
        => Assert.Contains("empty action", ModelError(m => { m.Entity<EmptyAction>(); m.AddEfNotifyOutbox(); }).Message, StringComparison.Ordinal);

    [Fact]
    public void Over_long_action_is_refused()
    {
        var error = ModelError(m => { m.Entity<Plain>().Notify(new string('a', 201)); m.AddEfNotifyOutbox(); });
        Assert.Contains("201 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reserved_action_prefix_is_refused()
        => Assert.Contains("reserved", ModelError(m => { m.Entity<ReservedAction>(); m.AddEfNotifyOutbox(); }).Message, StringComparison.Ordinal);

    [Fact]
    public void Unknown_watched_property_is_refused()
        => Assert.Contains("'Missing'", ModelError(m => { m.Entity<BadProperty>(); m.AddEfNotifyOutbox(); }).Message, StringComparison.Ordinal);

    [Fact]
    public void A_coalescing_window_over_10_s_names_the_entity_the_action_and_the_bounds_issue_15()
    {
        var error = ModelError(m => { m.Entity<SlowWindow>(); m.AddEfNotifyOutbox(); });

        Assert.Contains("'SlowWindow' has the notification 'changed' with a coalescing window of 20000 ms", error.Message, StringComparison.Ordinal);
        Assert.Contains("between 1 ms and 10,000 ms", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_fluent_coalescing_window_is_refused_issue_15()
        => Assert.Contains(
            "'Plain' has the notification 'moved' with a coalescing window of -5 ms",
            ModelError(m => { m.Entity<Plain>().Notify("moved", n => n.Coalesce(TimeSpan.FromMilliseconds(-5))); m.AddEfNotifyOutbox(); }).Message,
            StringComparison.Ordinal);

    [Fact]
    public void Keyless_entity_is_refused()
        => Assert.Contains("no key", ModelError(m => { m.Entity<NoKey>().HasNoKey(); m.AddEfNotifyOutbox(); }).Message, StringComparison.Ordinal);

    [Fact]
    public void Missing_outbox_mapping_is_named()
        => Assert.Contains("AddEfNotifyOutbox", ModelError(m => m.Entity<Plain>().Notify("changed")).Message, StringComparison.Ordinal);

    [Fact]
    public void Invalid_channel_name_is_refused()
        => Assert.Contains("channel name", ModelError(m => { m.Entity<Plain>().Notify("x").HasNotifyName("bad name"); m.AddEfNotifyOutbox(); }).Message, StringComparison.Ordinal);

    [Fact]
    public void Fluent_configuration_replaces_the_attribute_for_the_same_action()
    {
        using var db = Build(m =>
        {
            m.Entity<BadVia>().Notify("changed", n => n.On(NotifyChanges.Deleted));
            m.AddEfNotifyOutbox();
        });
        var definition = Assert.Single(NotifyModel.GetDefinitions(db.Model.FindEntityType(typeof(BadVia))!));
        Assert.Null(definition.Via);
        Assert.Equal(NotifyChanges.Deleted, definition.On);
    }

    [Fact]
    public void The_design_time_model_that_dotnet_ef_scaffolds_holds_no_annotation_of_EfNotify_issue_10()
    {
        using var db = Build(m =>
        {
            m.Entity<Watched>().Notify("changed", n => n.ToList()).HasNotifyName("Thing");
            m.AddEfNotifyOutbox();
        });

        var designTime = db.GetService<IDesignTimeModel>().Model;
        var annotations = designTime.GetAnnotations().Concat(designTime.GetEntityTypes().SelectMany(e => e.GetAnnotations()));
        Assert.DoesNotContain(annotations, a => a.Name.StartsWith("EfNotify:", StringComparison.Ordinal));
        var watched = db.Model.FindEntityType(typeof(Watched))!;
        Assert.Equal(["renamed", "changed"], NotifyModel.GetDefinitions(watched).Select(d => d.Action));
        Assert.Equal("Thing", NotifyModel.GetChannelEntityName(watched));
    }

    [Fact]
    public void UseEfNotify_without_AddEfNotify_says_what_is_missing()
    {
        var provider = new ServiceCollection().BuildServiceProvider();
        var error = Assert.Throws<InvalidOperationException>(() => new DbContextOptionsBuilder().UseSqlite("Data Source=:memory:").UseEfNotify(provider));
        Assert.Contains("AddEfNotify", error.Message, StringComparison.Ordinal);
    }
}

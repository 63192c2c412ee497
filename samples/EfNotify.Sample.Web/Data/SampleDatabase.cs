using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Sample.Web.Data;

/// <summary>Brings the sample's database up to date through its migrations (Data/Migrations), as an application would.</summary>
public static class SampleDatabase
{
    public static async Task MigrateAsync(SampleContext db)
    {
        // A demo database made before the sample had migrations (EnsureCreated) has tables but no migration history.
        if (!(await db.Database.GetAppliedMigrationsAsync()).Any()
            && await db.GetService<IRelationalDatabaseCreator>().HasTablesAsync())
        {
            await db.Database.EnsureDeletedAsync();
        }

        await db.Database.MigrateAsync();
        db.Seed();
    }
}

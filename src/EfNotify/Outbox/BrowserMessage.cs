using System.Text.Json;
using static EfNotify.Outbox.PooledJson;

namespace EfNotify.Outbox;

/// <summary>
/// The message a browser receives for one notification, the only place that says its shape:
/// <c>{"id","entity","key"?,"action","change","at","by"?,"source"?,"values"?,"count"?}</c>, and its minimal form for
/// a transport that refuses the whole one: <c>{"id","entity","key"?,"action","change","at","count"?,"truncated":true}</c>,
/// what a client needs to fetch the object again. A list channel's message has no key.
/// </summary>
internal static class BrowserMessage
{
    private static readonly string[] MinimalFields = ["id", "entity", "key", "action", "change", "at", "count"];

    /// <summary>The stored one-letter code of a change.</summary>
    public static string ChangeCode(ChangeKind change) => change switch
    {
        ChangeKind.Added => "a",
        ChangeKind.Modified => "m",
        ChangeKind.Deleted => "d",
        _ => "n",
    };

    /// <summary>The <c>change</c> a browser reads for a stored code; <see langword="null"/> for an unknown code.</summary>
    public static string? ChangeName(string? code) => code switch
    {
        "a" => "added",
        "m" => "modified",
        "d" => "deleted",
        "n" => "notified",
        _ => null,
    };

    /// <summary>The whole message of an item.</summary>
    public static string Write(in PayloadItem item)
    {
        var writer = Head(item);
        CopyIfAny(writer, "by", item.By);
        CopyIfAny(writer, "source", item.Source);
        CopyIfAny(writer, "values", item.Values);
        CopyIfAny(writer, "count", item.Count);
        writer.WriteEndObject();
        return Finish(writer);
    }

    /// <summary>The minimal message of an item.</summary>
    public static string Minimal(in PayloadItem item)
    {
        var writer = Head(item);
        CopyIfAny(writer, "count", item.Count);
        writer.WriteBoolean("truncated", true);
        writer.WriteEndObject();
        return Finish(writer);
    }

    /// <summary>The minimal message made from a whole one (rows of the first format store the whole message).</summary>
    public static string Minimal(JsonElement message)
    {
        var writer = Writer();
        writer.WriteStartObject();
        foreach (var property in message.EnumerateObject())
        {
            if (MinimalFields.Contains(property.Name))
            {
                property.WriteTo(writer);
            }
        }

        writer.WriteBoolean("truncated", true);
        writer.WriteEndObject();
        return Finish(writer);
    }

    private static Utf8JsonWriter Head(in PayloadItem item)
    {
        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteString("id", item.Id);
        Copy(writer, "entity", item.Entity);
        CopyIfAny(writer, "key", item.Key);
        Copy(writer, "action", item.Name);
        writer.WriteString("change", ChangeName(item.Change.GetString()));
        Copy(writer, "at", item.At);
        return writer;
    }
}

using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EfNotify.Outbox;

/// <summary>One JSON writer and buffer per thread for the payload texts, and verbatim copies of stored JSON values.</summary>
internal static class PooledJson
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The thread's writer, emptied; end with <see cref="Finish"/> before asking for it again.</summary>
    public static Utf8JsonWriter Writer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(16 * 1024);
        buffer.ResetWrittenCount();
        if (t_writer is { } writer)
        {
            writer.Reset(buffer);
            return writer;
        }

        return t_writer = new Utf8JsonWriter(buffer);
    }

    public static string Finish(Utf8JsonWriter writer)
    {
        writer.Flush();
        return Encoding.UTF8.GetString(t_buffer!.WrittenSpan);
    }

    /// <summary>Absent (default) and JSON null both mean "none".</summary>
    public static bool IsAny(JsonElement value) => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    // The stored text was written by this writer's own escaping, so copying it verbatim gives the bytes the first
    // format sent, without decoding and encoding every string again.
    public static void Copy(Utf8JsonWriter writer, JsonElement value)
        => writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);

    public static void Copy(Utf8JsonWriter writer, string name, JsonElement value)
    {
        writer.WritePropertyName(name);
        Copy(writer, value);
    }

    public static void CopyIfAny(Utf8JsonWriter writer, string name, JsonElement value)
    {
        if (IsAny(value))
        {
            Copy(writer, name, value);
        }
    }
}

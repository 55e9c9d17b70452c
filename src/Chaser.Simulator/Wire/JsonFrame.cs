using System.Buffers;
using System.Text.Json;

namespace Chaser.Simulator.Wire;

/// <summary>Writes one JSON document with Utf8JsonWriter into a thread-local reusable buffer.</summary>
internal static class JsonFrame
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    [ThreadStatic]
    private static bool busy;

    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        // A frame written while another is being written on this thread (an engine event raised from inside a
        // response) gets its own buffer instead of clobbering the shared one.
        var nested = busy;
        var target = nested ? new ArrayBufferWriter<byte>(1024) : buffer ??= new ArrayBufferWriter<byte>(4096);
        target.ResetWrittenCount();
        busy = true;
        try
        {
            using (var writer = new Utf8JsonWriter(target, new JsonWriterOptions { SkipValidation = true }))
            {
                write(writer, state);
            }

            return target.WrittenSpan.ToArray();
        }
        finally
        {
            busy = nested;
        }
    }

    public static byte[] Write(Action<Utf8JsonWriter> write) => Write(write, static (w, a) => a(w));
}

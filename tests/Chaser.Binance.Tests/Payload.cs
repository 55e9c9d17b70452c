namespace Chaser.Binance.Tests;

/// <summary>The golden JSON files in Payloads/ (shapes from the API notes and Binance's documented examples).</summary>
internal static class Payload
{
    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Payloads", name));
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Chaser.Binance.Signing;

namespace Chaser.Benchmarks;

/// <summary>
/// The WebSocket API frame as the connector built it before it wrote frames directly (kept here only to measure the
/// change): the signed REST query decoded to strings, re-sorted, re-signed and re-serialised with a new
/// <see cref="Utf8JsonWriter"/> into a new buffer, then copied out.
/// </summary>
internal sealed class LegacyWsApiFrame(string apiKey, IRequestSigner signer)
{
    public byte[] Frame(string id, string method, ReadOnlySpan<byte> signedRestQuery)
    {
        var parameters = new List<KeyValuePair<string, string>>(12)
        {
            KeyValuePair.Create("apiKey", apiKey),
        };
        foreach (var pair in Encoding.ASCII.GetString(signedRestQuery).Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = pair[..equals];
            if (key != "signature")
            {
                parameters.Add(KeyValuePair.Create(key, Uri.UnescapeDataString(pair[(equals + 1)..])));
            }
        }

        parameters.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var payload = Encoding.UTF8.GetBytes(string.Join('&', parameters.Select(p => p.Key + "=" + p.Value)));
        var signature = ArrayPool<byte>.Shared.Rent(signer.MaxSignatureLength);
        string signatureText;
        try
        {
            var length = signer.Sign(payload, signature);
            signatureText = Uri.UnescapeDataString(Encoding.ASCII.GetString(signature, 0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(signature);
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("method", method);
            json.WriteStartObject("params");
            foreach (var (key, value) in parameters)
            {
                if (key is "timestamp" or "recvWindow")
                {
                    json.WriteNumber(key, long.Parse(value, CultureInfo.InvariantCulture));
                }
                else
                {
                    json.WriteString(key, value);
                }
            }

            json.WriteString("signature", signatureText);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

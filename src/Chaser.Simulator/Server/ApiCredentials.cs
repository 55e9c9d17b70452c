using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Chaser.Simulator.Server;

/// <summary>
/// The account's API keys and how each signs: the HMAC key (<see cref="SimulatorOptions.ApiKey"/> with its secret) and
/// the Ed25519 keys registered with their public keys (<see cref="SimulatorOptions.Ed25519PublicKeys"/>), as Binance
/// keeps them: an Ed25519 request carries a base64 signature of the same payload an HMAC request signs in hex
/// (binance-futures-api.md §5).
/// </summary>
internal sealed class ApiCredentials
{
    private readonly string _hmacKey;
    private readonly byte[] _hmacSecret;
    private readonly Dictionary<string, byte[]> _ed25519 = new(StringComparer.Ordinal);

    public ApiCredentials(SimulatorOptions options)
    {
        _hmacKey = options.ApiKey;
        _hmacSecret = Encoding.UTF8.GetBytes(options.ApiSecret);
        foreach (var (apiKey, publicKey) in options.Ed25519PublicKeys)
        {
            if (string.IsNullOrWhiteSpace(apiKey) || apiKey == options.ApiKey)
            {
                throw new ArgumentException("an Ed25519 API key must be non-empty and differ from the HMAC API key", nameof(options));
            }

            if (publicKey?.Length != Ed25519.PublicKeySize)
            {
                throw new ArgumentException($"the Ed25519 public key of API key '{apiKey}' must be {Ed25519.PublicKeySize} bytes", nameof(options));
            }

            _ed25519[apiKey] = [.. publicKey!];
        }
    }

    public bool IsKnown(string apiKey) => apiKey == _hmacKey || _ed25519.ContainsKey(apiKey);

    public bool IsEd25519(string apiKey) => _ed25519.ContainsKey(apiKey);

    /// <summary>Whether <paramref name="signature"/> signs <paramref name="payload"/> with <paramref name="apiKey"/>'s key (false for an unknown key).</summary>
    public bool Verify(string apiKey, string payload, string signature)
    {
        var data = Encoding.UTF8.GetBytes(payload);
        if (_ed25519.TryGetValue(apiKey, out var publicKey))
        {
            var bytes = new byte[Ed25519.SignatureSize];
            return Convert.TryFromBase64String(signature, bytes, out var length) && length == Ed25519.SignatureSize
                && Ed25519.Verify(bytes, 0, publicKey, 0, data, 0, data.Length);
        }

        if (apiKey != _hmacKey)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(_hmacSecret, data)));
        var actual = Encoding.ASCII.GetBytes(signature.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}

/// <summary>Reads an Ed25519 public key as Binance's key generator writes it: PEM, <c>-----BEGIN PUBLIC KEY-----</c> (X.509 SubjectPublicKeyInfo, RFC 8410).</summary>
public static class Ed25519PublicKeyPem
{
    // SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (33 bytes: no unused bits, then the 32-byte key) }.
    private static ReadOnlySpan<byte> Prefix => [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00];

    /// <summary>The 32-byte key; a FormatException saying what is wrong otherwise.</summary>
    public static byte[] Read(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (!System.Security.Cryptography.PemEncoding.TryFind(pem, out var fields) || !pem.AsSpan()[fields.Label].SequenceEqual("PUBLIC KEY"))
        {
            throw new FormatException("not a PEM block labelled PUBLIC KEY");
        }

        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem.AsSpan()[fields.Base64Data], der, out var length)
            || length != Prefix.Length + Ed25519.PublicKeySize || !der.AsSpan(0, Prefix.Length).SequenceEqual(Prefix))
        {
            throw new FormatException("the PUBLIC KEY block is not an Ed25519 key");
        }

        return der[Prefix.Length..];
    }
}

using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;
using Org.BouncyCastle.Security;

namespace Chaser.Binance.Signing;

/// <summary>Signs Binance's <c>totalParams</c> (query string followed by body) and writes the value of the <c>signature</c> parameter.</summary>
public interface IRequestSigner
{
    /// <summary>The most bytes <see cref="Sign"/> can write: size the destination with it.</summary>
    int MaxSignatureLength { get; }

    /// <summary>
    /// Whether the WebSocket API accepts this key for <c>session.logon</c>, after which a connection's requests go
    /// unsigned: Binance takes Ed25519 keys only (API notes §5, §8).
    /// </summary>
    bool SupportsSessionLogon => false;

    /// <summary>Writes the signature, already URL-encoded ASCII, and returns its length. Allocates nothing.</summary>
    int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination);

    /// <summary>
    /// Writes the signature as plain ASCII, not URL-encoded (a JSON string of the WebSocket API, API notes §8), and
    /// returns its length; size the destination with <see cref="MaxSignatureLength"/>. Allocates nothing. By default
    /// <see cref="Sign"/>'s text with its %XX escapes decoded.
    /// </summary>
    int SignPlain(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        var length = Sign(payload, destination);
        var written = 0;
        for (var read = 0; read < length; written++)
        {
            if (destination[read] == (byte)'%' && read + 2 < length && Hex.TryDigit(destination[read + 1], out var high) && Hex.TryDigit(destination[read + 2], out var low))
            {
                destination[written] = (byte)((high << 4) | low);
                read += 3;
            }
            else
            {
                destination[written] = destination[read++];
            }
        }

        return written;
    }
}

/// <summary>HMAC-SHA256 keyed with the API secret, written as 64 lowercase hex digits (Binance's default scheme).</summary>
public sealed class HmacSha256Signer : IRequestSigner, IDisposable
{
    private readonly Secret _secret;

    // One keyed HMAC per thread, reset after each use: the key schedule is done once, not per request.
    private readonly ThreadLocal<IncrementalHash> _hmac;

    public HmacSha256Signer(Secret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _secret = secret;
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret.Expose()), trackAllValues: true);
    }

    public int MaxSignatureLength => HMACSHA256.HashSizeInBytes * 2;

    // Hex digits need no escaping: the same text in a query string and in JSON.
    public int SignPlain(ReadOnlySpan<byte> payload, Span<byte> destination) => Sign(payload, destination);

    public int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hmac = _hmac.Value!;
        hmac.AppendData(totalParams);
        hmac.GetHashAndReset(hash);
        return Hex.WriteLower(hash, destination);
    }

    public void Dispose()
    {
        foreach (var hmac in _hmac.Values)
        {
            hmac.Dispose();
        }

        _hmac.Dispose();
    }

    public override string ToString() => "HmacSha256Signer(secret redacted)";
}

/// <summary>
/// Ed25519 (RFC 8032, pure) over <c>totalParams</c>; the 64-byte signature is base64-encoded and then URL-encoded, as
/// Binance wants for a request parameter. The BCL has no Ed25519, so BouncyCastle's managed implementation signs.
/// </summary>
public sealed class Ed25519Signer : IRequestSigner
{
    private const int SignatureSize = 64;

    // Base64 of 64 bytes is 88 characters; each may become a three-character %XX escape.
    private const int Base64Length = ((SignatureSize + 2) / 3) * 4;

    private readonly Ed25519PrivateKeyParameters _key;

    private Ed25519Signer(Ed25519PrivateKeyParameters key) => _key = key;

    /// <summary>From the 32-byte private key seed (RFC 8032's "secret key").</summary>
    public static Ed25519Signer FromSeed(Secret seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        if (seed.Length != Ed25519PrivateKeyParameters.KeySize)
        {
            throw new ArgumentException($"an Ed25519 seed is {Ed25519PrivateKeyParameters.KeySize} bytes, got {seed.Length}", nameof(seed));
        }

        return new Ed25519Signer(new Ed25519PrivateKeyParameters(seed.Expose()));
    }

    /// <summary>From a PKCS#8 PEM private key (<c>-----BEGIN PRIVATE KEY-----</c>), the form Binance's key generator writes.</summary>
    public static Ed25519Signer FromPkcs8Pem(Secret pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var text = System.Text.Encoding.ASCII.GetString(pem.Expose());
        if (!PemEncoding.TryFind(text, out var fields) || !text.AsSpan()[fields.Label].SequenceEqual("PRIVATE KEY"))
        {
            // The message must not echo the input: it is the private key.
            throw new FormatException("the Ed25519 key is not a PKCS#8 PEM block labelled PRIVATE KEY");
        }

        var der = Convert.FromBase64String(text[fields.Base64Data]);
        try
        {
            return PrivateKeyFactory.CreateKey(der) is Ed25519PrivateKeyParameters key
                ? new Ed25519Signer(key)
                : throw new FormatException("the PKCS#8 key is not an Ed25519 key");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>The public key (32 bytes), which is what gets registered with Binance.</summary>
    public byte[] PublicKey() => _key.GeneratePublicKey().GetEncoded();

    public int MaxSignatureLength => Base64Length * 3;

    public bool SupportsSessionLogon => true;

    public int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination)
    {
        Span<byte> base64 = stackalloc byte[Base64Length];
        var written = SignPlain(totalParams, base64);
        return UrlEncoding.Escape(base64[..written], destination);
    }

    /// <summary>The base64 signature as it is, for a JSON parameter (the WebSocket API).</summary>
    public int SignPlain(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> signature = stackalloc byte[SignatureSize];
        _key.Sign(Ed25519.Algorithm.Ed25519, null, payload, signature);
        var status = Base64.EncodeToUtf8(signature, destination, out _, out var written);
        if (status != OperationStatus.Done)
        {
            throw new InvalidOperationException($"base64 encoding of the signature failed: {status}");
        }

        return written;
    }

    public override string ToString() => "Ed25519Signer(key redacted)";
}

internal static class Hex
{
    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;

    public static int WriteLower(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        if (destination.Length < bytes.Length * 2)
        {
            throw new ArgumentException("destination too small for the hex digits", nameof(destination));
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = Digits[bytes[i] >> 4];
            destination[(2 * i) + 1] = Digits[bytes[i] & 0xF];
        }

        return bytes.Length * 2;
    }

    /// <summary>The value of one hex digit, either case.</summary>
    public static bool TryDigit(byte c, out int value)
    {
        value = c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}

using System.Text;
using Chaser.Binance.Signing;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Chaser.Binance.Tests;

public sealed class SigningTests
{
    // API notes §5: Binance's documented HMAC example.
    private const string DocSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    private const string DocPayload = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
    private const string DocSignature = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";

    [Fact]
    public void Hmac_signature_matches_the_documented_example()
    {
        var signer = new HmacSha256Signer(Secret.FromText(DocSecret));
        Span<byte> destination = stackalloc byte[signer.MaxSignatureLength];

        var length = signer.Sign(Encoding.ASCII.GetBytes(DocPayload), destination);

        Assert.Equal(DocSignature, Encoding.ASCII.GetString(destination[..length]));
    }

    [Fact]
    public void Hmac_signature_changes_with_the_payload()
    {
        var signer = new HmacSha256Signer(Secret.FromText(DocSecret));
        Span<byte> destination = stackalloc byte[signer.MaxSignatureLength];

        var length = signer.Sign(Encoding.ASCII.GetBytes(DocPayload.Replace("9000", "9001", StringComparison.Ordinal)), destination);

        Assert.NotEqual(DocSignature, Encoding.ASCII.GetString(destination[..length]));
    }

    [Fact]
    public void Secrets_never_show_in_text()
    {
        var secret = Secret.FromText(DocSecret);
        var key = new ApiKey("dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83");
        var signer = new HmacSha256Signer(secret);

        Assert.DoesNotContain(DocSecret, secret.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("2b5e", secret.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("2b5e", signer.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(key.Value, key.ToString(), StringComparison.Ordinal);
        Assert.Equal("ApiKey(dbef…cc83)", key.ToString());
        Assert.DoesNotContain(DocSecret, $"{secret} {signer}", StringComparison.Ordinal);
    }

    // RFC 8032 §7.1, TEST 1 (empty message).
    [Fact]
    public void Ed25519_signature_matches_rfc8032_test_vector()
    {
        var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        var signer = Ed25519Signer.FromSeed(Secret.FromBytes(seed));
        Span<byte> destination = stackalloc byte[signer.MaxSignatureLength];

        var length = signer.Sign([], destination);

        var expected = Convert.FromHexString(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        var decoded = Convert.FromBase64String(Uri.UnescapeDataString(Encoding.ASCII.GetString(destination[..length])));
        Assert.Equal(expected, decoded);
        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(signer.PublicKey()));
    }

    [Fact]
    public void Ed25519_signature_is_url_encoded_base64_that_verifies()
    {
        var seed = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
        var signer = Ed25519Signer.FromSeed(Secret.FromBytes(seed));
        var payload = Encoding.ASCII.GetBytes(DocPayload);
        var destination = new byte[signer.MaxSignatureLength];

        var length = signer.Sign(payload, destination);
        var text = Encoding.ASCII.GetString(destination, 0, length);

        Assert.DoesNotContain('+', text);
        Assert.DoesNotContain('/', text);
        Assert.DoesNotContain('=', text);
        var signature = Convert.FromBase64String(Uri.UnescapeDataString(text));
        var publicKey = new Ed25519PublicKeyParameters(signer.PublicKey());
        Assert.True(publicKey.Verify(Ed25519.Algorithm.Ed25519, null, payload, 0, payload.Length, signature, 0));
        payload[0] ^= 1;
        Assert.False(publicKey.Verify(Ed25519.Algorithm.Ed25519, null, payload, 0, payload.Length, signature, 0));
    }

    [Fact]
    public void Ed25519_key_loads_from_pkcs8_pem()
    {
        var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        // PKCS#8 for Ed25519 (RFC 8410): fixed 16-byte prefix, then the 32-byte seed.
        var der = Convert.FromHexString("302e020100300506032b657004220420").Concat(seed).ToArray();
        var pem = $"-----BEGIN PRIVATE KEY-----\n{Convert.ToBase64String(der)}\n-----END PRIVATE KEY-----\n";

        var signer = Ed25519Signer.FromPkcs8Pem(Secret.FromText(pem));

        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(signer.PublicKey()));
    }

    [Fact]
    public void Bad_pem_error_does_not_echo_the_key()
    {
        const string notPem = "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";

        var error = Assert.Throws<FormatException>(() => Ed25519Signer.FromPkcs8Pem(Secret.FromText(notPem)));

        Assert.DoesNotContain("MC4CAQAw", error.Message, StringComparison.Ordinal);
    }
}

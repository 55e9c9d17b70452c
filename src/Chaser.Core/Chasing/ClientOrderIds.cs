using System.Globalization;
using System.Security.Cryptography;

namespace Chaser.Core.Chasing;

/// <summary>
/// Client order ids <c>chs-&lt;tag&gt;-&lt;parent&gt;-&lt;seq&gt;</c>: the instance tag of the database that owns the
/// parent order, the parent order's id and the child's sequence number, all in decimal. Binance keeps one id space per
/// account, so the tag is what tells our orders from those of another database or process on the same account: an id
/// is ours only when its tag is ours. The tag is exactly <see cref="TagLength"/> characters of <c>[0-9a-z]</c>
/// (2.2·10⁹ values, drawn at random per database).
/// <para>
/// Limits: Binance allows <c>^[\.A-Z\:/a-z0-9_-]{1,36}$</c>, and the prefix, tag and dashes take 12 characters, so the
/// parent id and the sequence together have 24 digits: every sequence (up to <see cref="int.MaxValue"/>) for parent ids
/// up to <see cref="MaxParentIdForAnySequence"/> (14 digits), and up to 99,999 children for the largest ids a
/// database can issue (19 digits). Past that <see cref="For"/> refuses; it never truncates.
/// </para>
/// </summary>
public static class ClientOrderIds
{
    public const string Prefix = "chs-";

    public const int TagLength = 6;

    /// <summary>Binance's longest client order id.</summary>
    public const int MaxLength = 36;

    /// <summary>The largest parent id whose every child (any <see cref="int"/> sequence) has an id.</summary>
    public const long MaxParentIdForAnySequence = 99_999_999_999_999;

    private const string TagAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    /// <summary>A fresh random tag (cryptographic randomness: two databases must not draw the same one).</summary>
    public static string NewTag() => RandomNumberGenerator.GetString(TagAlphabet, TagLength);

    public static bool IsValidTag(string? tag) => tag is not null && IsValidTag(tag.AsSpan());

    private static bool IsValidTag(ReadOnlySpan<char> tag)
    {
        if (tag.Length != TagLength)
        {
            return false;
        }

        foreach (var c in tag)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'z')))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws naming <paramref name="parameterName"/> when the tag is not <see cref="TagLength"/> characters of [0-9a-z].</summary>
    public static string ValidateTag(string? tag, string parameterName) => IsValidTag(tag)
        ? tag!
        : throw new ArgumentException($"a client id tag must be {TagLength} characters of [0-9a-z], got '{tag}'", parameterName);

    /// <summary>Whether the child <paramref name="sequence"/> of <paramref name="parentId"/> has an id within Binance's 36 characters.</summary>
    public static bool Fits(long parentId, int sequence) =>
        parentId > 0 && sequence > 0 && Prefix.Length + TagLength + 2 + Digits(parentId) + Digits(sequence) <= MaxLength;

    public static string For(string tag, long parentId, int sequence)
    {
        ValidateTag(tag, nameof(tag));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parentId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        if (!Fits(parentId, sequence))
        {
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"child {sequence} of parent order {parentId} has no client order id within Binance's {MaxLength} characters");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{tag}-{parentId}-{sequence}");
    }

    /// <summary>
    /// Reads an id of our format, whoever's tag it carries (see <see cref="IsOurs"/> for ownership). Only the canonical
    /// spelling is accepted (no leading zeros), so one child has exactly one id.
    /// </summary>
    public static bool TryParse(string? clientOrderId, out string tag, out long parentId, out int sequence)
    {
        var parsed = TryParse(clientOrderId, out ReadOnlySpan<char> owner, out parentId, out sequence);
        tag = parsed ? owner.ToString() : string.Empty;
        return parsed;
    }

    /// <summary>Whether the id is one this instance (tag <paramref name="tag"/>) issued; the parent order it belongs to.</summary>
    public static bool IsOurs(string? clientOrderId, string tag, out long parentId)
    {
        // Every order event is routed through here: the tag is compared where it stands in the id, not copied out.
        if (TryParse(clientOrderId, out ReadOnlySpan<char> owner, out parentId, out _) && owner.SequenceEqual(tag))
        {
            return true;
        }

        parentId = 0;
        return false;
    }

    private static bool TryParse(string? clientOrderId, out ReadOnlySpan<char> tag, out long parentId, out int sequence)
    {
        tag = default;
        parentId = 0;
        sequence = 0;
        if (clientOrderId is null || clientOrderId.Length > MaxLength || !clientOrderId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = clientOrderId.AsSpan(Prefix.Length);
        if (rest.Length <= TagLength || rest[TagLength] != '-')
        {
            return false;
        }

        var candidate = rest[..TagLength];
        rest = rest[(TagLength + 1)..];
        var dash = rest.IndexOf('-');
        if (!IsValidTag(candidate)
            || dash <= 0
            || rest[0] == '0'
            || dash + 1 >= rest.Length
            || rest[dash + 1] == '0'
            || !long.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out parentId)
            || !int.TryParse(rest[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out sequence)
            || parentId <= 0
            || sequence <= 0)
        {
            parentId = 0;
            sequence = 0;
            return false;
        }

        tag = candidate;
        return true;
    }

    private static int Digits(long value) => value.ToString(CultureInfo.InvariantCulture).Length;
}

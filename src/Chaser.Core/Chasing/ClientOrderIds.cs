using System.Globalization;

namespace Chaser.Core.Chasing;

/// <summary>
/// Client order ids that encode the parent order and the child's sequence number (<c>chs-&lt;parent&gt;-&lt;seq&gt;</c>),
/// so that after a restart the engine finds its own orders on the exchange. They fit Binance's rule
/// <c>^[\.A-Z\:/a-z0-9_-]{1,36}$</c>.
/// </summary>
public static class ClientOrderIds
{
    public const string Prefix = "chs-";

    public static string For(long parentId, int sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parentId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{parentId}-{sequence}");
    }

    public static bool TryParse(string? clientOrderId, out long parentId, out int sequence)
    {
        parentId = 0;
        sequence = 0;
        if (clientOrderId is null || !clientOrderId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = clientOrderId.AsSpan(Prefix.Length);
        var dash = rest.IndexOf('-');
        return dash > 0
            && long.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out parentId)
            && int.TryParse(rest[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out sequence)
            && parentId > 0
            && sequence > 0;
    }
}

using Chaser.Core.Market;

namespace Chaser.Binance.Book;

/// <summary>
/// One side of a price-level book, kept sorted with the best price at the end of the array: most changes happen near
/// the touch, so inserts and removals there move few elements, and the best level is read in O(1).
/// </summary>
internal sealed class BookSide
{
    private readonly bool _isBid;
    private PriceLevel[] _levels = new PriceLevel[1024];
    private int _count;

    public BookSide(bool isBid) => _isBid = isBid;

    public int Count => _count;

    public void Clear() => _count = 0;

    /// <summary>Sets a level's absolute quantity; zero removes it (removing an absent level is a no-op, as on Binance).</summary>
    public void Set(decimal price, decimal quantity)
    {
        var index = Find(price);
        if (index >= 0)
        {
            if (quantity == 0)
            {
                Array.Copy(_levels, index + 1, _levels, index, _count - index - 1);
                _count--;
            }
            else
            {
                _levels[index] = new PriceLevel(price, quantity);
            }

            return;
        }

        if (quantity == 0)
        {
            return;
        }

        index = ~index;
        if (_count == _levels.Length)
        {
            Array.Resize(ref _levels, _levels.Length * 2);
        }

        Array.Copy(_levels, index, _levels, index + 1, _count - index);
        _levels[index] = new PriceLevel(price, quantity);
        _count++;
    }

    public bool TryGetBest(out PriceLevel best)
    {
        if (_count == 0)
        {
            best = default;
            return false;
        }

        best = _levels[_count - 1];
        return true;
    }

    /// <summary>The <paramref name="depth"/> best levels, best first.</summary>
    public PriceLevel[] Top(int depth)
    {
        var n = Math.Min(depth, _count);
        var top = new PriceLevel[n];
        for (var i = 0; i < n; i++)
        {
            top[i] = _levels[_count - 1 - i];
        }

        return top;
    }

    /// <summary>
    /// Binary search in storage order: bids ascending (best = highest, at the end), asks descending (best = lowest, at
    /// the end). Returns the index, or the bitwise complement of the insertion point.
    /// </summary>
    private int Find(decimal price)
    {
        int low = 0, high = _count - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var cmp = _levels[mid].Price.CompareTo(price);
            if (!_isBid)
            {
                cmp = -cmp;
            }

            if (cmp == 0)
            {
                return mid;
            }

            if (cmp < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return ~low;
    }
}

using Chaser.Core.Market;
using Chaser.Core.Ports;

namespace Chaser.Engine;

/// <summary>
/// Keeps sampling the book into a parent order's mids for <see cref="EngineOptions.MarkoutTail"/> after it ended, so
/// that markouts at +1, +10 and +60 s can be computed: a sample whenever the mid moves, and one closing sample saying
/// the last quote still held when the tail ends. Off when the tail is zero.
/// </summary>
internal sealed class MarkoutTails
{
    private readonly IExecutionRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly TimeSpan _length;
    private readonly Lock _lock = new();

    // Parent orders that ended less than the tail ago (copy-on-write: read on every book without a lock).
    private Tail[] _tails = [];

    public MarkoutTails(IExecutionRecorder recorder, TimeProvider time, TimeSpan length)
    {
        _recorder = recorder;
        _time = time;
        _length = length;
    }

    /// <summary>Tails still open: one per order that ended less than the tail ago.</summary>
    public int Count => _tails.Length;

    /// <summary>
    /// Starts the tail of an order that ended, from <paramref name="latest"/> (the symbol's last book, when one is
    /// known); the order's loop last recorded <paramref name="lastRecordedMid"/>.
    /// </summary>
    public void Start(long parentId, string symbol, BookTop? latest, decimal lastRecordedMid)
    {
        if (_length <= TimeSpan.Zero || latest is not { IsSane: true } book)
        {
            return;
        }

        // Books queued behind the order's finish were dropped with its loop; the move the last fill caused is
        // usually among them, and it is the first thing a markout has to see.
        var now = _time.GetUtcNow();
        if (book.Mid != lastRecordedMid)
        {
            _recorder.Mid(new MidSample(parentId, book.Bid, book.Ask, book.ExchangeTime, now));
        }

        lock (_lock)
        {
            _tails = [.. _tails, new Tail(parentId, symbol, now + _length, book)];
        }
    }

    /// <summary>A book of <paramref name="symbol"/>: sampled for the tails on it whose mid moved; tails that ran out are closed.</summary>
    public void Sample(string symbol, in BookTop top)
    {
        var tails = _tails;
        if (tails.Length == 0 || !top.IsSane)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var expired = false;
        foreach (var tail in tails)
        {
            if (now > tail.Until)
            {
                expired = true;
            }
            else if (string.Equals(tail.Symbol, symbol, StringComparison.Ordinal) && tail.TakeMidChange(top))
            {
                _recorder.Mid(new MidSample(tail.ParentId, top.Bid, top.Ask, top.ExchangeTime, now));
            }
        }

        if (expired)
        {
            CloseExpiredAt(now);
        }
    }

    /// <summary>Closes tails that ran out even if no book of their symbol came to close them (a feed that went quiet).</summary>
    public void CloseExpired()
    {
        var now = _time.GetUtcNow();
        if (_tails.Any(t => now > t.Until))
        {
            Close(t => now > t.Until);
        }
    }

    /// <summary>Closes every tail (the host stops).</summary>
    public void CloseAll() => Close(_ => true);

    // Apart from Sample: a lambda there capturing its time would allocate its closure on every book, expired or not.
    private void CloseExpiredAt(DateTimeOffset now) => Close(t => now > t.Until);

    /// <summary>
    /// Ends tails with a last sample of the book as it stands, so that the record shows how long the quote was known to
    /// hold (a mid that did not move for 60 s is a markout too, not missing data).
    /// </summary>
    private void Close(Func<Tail, bool> which)
    {
        Tail[] closing;
        lock (_lock)
        {
            closing = [.. _tails.Where(which)];
            _tails = [.. _tails.Where(t => !which(t))];
        }

        var now = _time.GetUtcNow();
        foreach (var tail in closing)
        {
            // Stamped with our clock on both fields: this sample says "still this quote at this time", not an exchange
            // event. Closed under the tail's lock, so no sample of a newer quote can follow it.
            if (tail.TryClose(out var book))
            {
                var at = now < tail.Until ? now : tail.Until;
                _recorder.Mid(new MidSample(tail.ParentId, book.Bid, book.Ask, at, at));
            }
        }
    }

    /// <summary>A parent order that ended and is still sampled for markouts until <see cref="Until"/>.</summary>
    private sealed class Tail(long parentId, string symbol, DateTimeOffset until, BookTop last)
    {
        private readonly Lock _lock = new();
        private BookTop _last = last;
        private bool _closed;

        public long ParentId { get; } = parentId;

        public string Symbol { get; } = symbol;

        public DateTimeOffset Until { get; } = until;

        /// <summary>Keeps the book and says whether its mid moved (samples are kept only when it did, as during the order); false once closed.</summary>
        public bool TakeMidChange(in BookTop top)
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return false;
                }

                var moved = top.Mid != _last.Mid;
                _last = top;
                return moved;
            }
        }

        /// <summary>Ends the tail; gives the last book sampled (the quote known to hold until now) the first time only.</summary>
        public bool TryClose(out BookTop last)
        {
            lock (_lock)
            {
                last = _last;
                if (_closed)
                {
                    return false;
                }

                _closed = true;
                return true;
            }
        }
    }
}

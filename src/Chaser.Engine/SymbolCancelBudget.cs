using Chaser.Core.Chasing;

namespace Chaser.Engine;

/// <summary>
/// The invalid-cancellation budget of one symbol on the account, shared by the orders working it: each order's runner
/// records the requests it sends (<see cref="Record"/>); a change of the allowance — after a request, or when old
/// requests leave Binance's 10-minute cycle — is handed to <c>publish</c>, which delivers it to every order on the
/// symbol as an input. No chaser reads another's state, so each one's decisions follow from its own inputs.
/// </summary>
internal sealed class SymbolCancelBudget : IDisposable
{
    private readonly CancellationRatioTracker _tracker;
    private readonly TimeProvider _time;
    private readonly Action<bool> _publish;
    private readonly ITimer _expiry;

    // Held while the allowance is read and published: two orders recording at once publish in the order the tracker
    // changed, so every order's last input is the tracker's value.
    private readonly Lock _lock = new();
    private DateTimeOffset? _expiryDue;

    // The allowance the orders on the symbol were last given (allowed is every chaser's initial value).
    private bool _published = true;

    public SymbolCancelBudget(ChaserOptions options, TimeProvider time, Action<bool> publish)
    {
        _tracker = new CancellationRatioTracker(options);
        _time = time;
        _publish = publish;
        _expiry = time.CreateTimer(_ => OnExpiry(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The symbol's tracker (read-only use: counts for diagnostics and tests).</summary>
    public CancellationRatioTracker Tracker => _tracker;

    /// <summary>
    /// Records a request about to be sent: a change that spends the allowance is published before the request leaves.
    /// Returns the time it was recorded at, for <see cref="Settle"/>; null when it counts nothing.
    /// </summary>
    public DateTimeOffset? Record(in ChaserCommand command)
    {
        if (command.Kind is not (ChaserCommandKind.Place or ChaserCommandKind.Modify) && !command.CountsAsYoungCancel)
        {
            return null;
        }

        lock (_lock)
        {
            var now = _time.GetUtcNow();
            _tracker.Record(command, now);

            // Only a restriction goes out ahead: an allowance that a placement gave back waits until it was sent.
            if (!_tracker.YoungCancelsAllowed)
            {
                PublishIfChanged();
            }

            ScheduleExpiry();
            return now;
        }
    }

    /// <summary>
    /// Settles a request recorded at <paramref name="recordedAt"/>: sent, what it changed is published; refused before
    /// it left (the rate guard), it is taken back, since a placement Binance never saw would let our ratio understate its.
    /// </summary>
    public void Settle(in ChaserCommand command, DateTimeOffset recordedAt, bool sent)
    {
        lock (_lock)
        {
            if (!sent)
            {
                _tracker.Retract(command, recordedAt);
            }

            PublishIfChanged();
            ScheduleExpiry();
        }
    }

    /// <summary>
    /// Gives a joining order the allowance as it stands, when it differs from a chaser's initial one (allowed), with no
    /// change published in between: from here on every change reaches it through <c>publish</c>.
    /// </summary>
    public void Join(Action<bool> deliver)
    {
        lock (_lock)
        {
            if (!_published)
            {
                deliver(false);
            }
        }
    }

    public void Dispose() => _expiry.Dispose();

    private void OnExpiry()
    {
        lock (_lock)
        {
            _expiryDue = null;
            _tracker.Refresh(_time.GetUtcNow());
            PublishIfChanged();
            ScheduleExpiry();
        }
    }

    private void PublishIfChanged()
    {
        var allowed = _tracker.YoungCancelsAllowed;
        if (allowed != _published)
        {
            _published = allowed;
            _publish(allowed);
        }
    }

    private void ScheduleExpiry()
    {
        var next = _tracker.NextExpiry;
        if (next == _expiryDue)
        {
            return;
        }

        _expiryDue = next;
        var due = next is { } at ? at - _time.GetUtcNow() : Timeout.InfiniteTimeSpan;
        _expiry.Change(next is null ? Timeout.InfiniteTimeSpan : due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}

using System.Collections.Concurrent;
using Chaser.Core.Ports;

namespace Chaser.Engine;

/// <summary>
/// The exchange-side dead-man switch per symbol (<see cref="EngineOptions.DeadManCountdown"/>): armed before the first
/// order on a symbol sends anything, renewed every quarter of the countdown while any order works there, disarmed when
/// the last one ends. Off (every call returns at once) when the countdown is zero or the venue has no such switch.
/// </summary>
internal sealed class DeadManSwitch
{
    private readonly IDeadManSwitch? _venue;
    private readonly TimeSpan _countdown;
    private readonly TimeProvider _time;
    private readonly Action<string>? _diagnostics;

    // The symbols with working orders (under _lock), and one gate per symbol so that arm and disarm calls reach the
    // exchange in order: the last one sent always reflects whether orders are working.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Symbol> _working = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _disarms = new();

    public DeadManSwitch(IExchangeConnector connector, TimeSpan countdown, TimeProvider time, Action<string>? diagnostics)
    {
        _venue = countdown > TimeSpan.Zero ? connector as IDeadManSwitch : null;
        _countdown = countdown;
        _time = time;
        _diagnostics = diagnostics;
    }

    /// <summary>
    /// Counts one more order working on <paramref name="symbol"/> and returns once the exchange holds the countdown (the
    /// first order arms it; later ones wait for that arm). Thrown when it could not be armed, and then not held:
    /// call <see cref="Release"/> only after this returned.
    /// </summary>
    public async Task HoldAsync(string symbol, CancellationToken cancellationToken)
    {
        if (_venue is null)
        {
            return;
        }

        Symbol held;
        var first = false;
        lock (_lock)
        {
            if (!_working.TryGetValue(symbol, out held!))
            {
                held = new Symbol();
                _working[symbol] = held;
                first = true;
            }

            held.Working++;
        }

        if (first)
        {
            // The exchange calls happen outside the lock; later orders on the symbol wait for this first arm.
            _ = ArmFirstAsync(symbol, held);
        }

        try
        {
            await held.Armed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Release(symbol);
            throw;
        }
    }

    /// <summary>One order on the symbol ended; after the last one the countdown is disarmed (in the background).</summary>
    public void Release(string symbol)
    {
        if (_venue is null)
        {
            return;
        }

        lock (_lock)
        {
            if (!_working.TryGetValue(symbol, out var held) || --held.Working > 0)
            {
                return;
            }

            _working.Remove(symbol);
            held.Stop.Cancel();
        }

        var disarm = SyncAsync(symbol, CancellationToken.None);
        _disarms.TryAdd(disarm, 0);
        _ = disarm.ContinueWith(
            t =>
            {
                _disarms.TryRemove(t, out _);
                if (t.Exception is { } e)
                {
                    _diagnostics?.Invoke($"dead-man switch: disarming {symbol} failed ({e.InnerException?.Message}); the exchange cancels its open orders when the countdown ends");
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Waits for the disarms under way: they are what stops the exchange from canceling the account's other orders later.</summary>
    public Task DisarmsLanded(TimeSpan timeout) => Task.WhenAll(_disarms.Keys).WaitAsync(timeout);

    private async Task ArmFirstAsync(string symbol, Symbol held)
    {
        try
        {
            await SyncAsync(symbol, CancellationToken.None).ConfigureAwait(false);
            held.Armed.TrySetResult();
            await RenewAsync(symbol, held).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (!held.Armed.TrySetException(e))
            {
                _diagnostics?.Invoke($"dead-man switch: renewals for {symbol} stopped ({e.GetType().Name}: {e.Message})");
            }
        }
    }

    /// <summary>Tells the exchange what is true now: armed while orders work on the symbol, disarmed when none do.</summary>
    private async Task SyncAsync(string symbol, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(symbol, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool working;
            lock (_lock)
            {
                working = _working.ContainsKey(symbol);
            }

            await _venue!.ArmCancelAllAsync(symbol, working ? _countdown : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task RenewAsync(string symbol, Symbol held)
    {
        var interval = _countdown / 4;
        while (true)
        {
            try
            {
                await Task.Delay(interval, _time, held.Stop.Token).ConfigureAwait(false);
                await SyncAsync(symbol, held.Stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (held.Stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException)
            {
                // Three more renewals come before the countdown can run out; say so and keep going.
                _diagnostics?.Invoke($"dead-man switch: renewing {symbol} failed ({e.Message}); retrying in {interval.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>The switch of one symbol while orders work on it.</summary>
    private sealed class Symbol
    {
        public int Working { get; set; }

        /// <summary>Done once the exchange holds the first countdown (failed if it could not be armed).</summary>
        public TaskCompletionSource Armed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Stop { get; } = new();
    }
}

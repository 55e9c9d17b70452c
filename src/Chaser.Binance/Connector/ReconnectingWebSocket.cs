using System.Net.WebSockets;

namespace Chaser.Binance.Connector;

/// <summary>
/// One WebSocket that stays connected, shared by the market streams, the user stream and the WebSocket API order
/// entry. One exception policy: whatever fails (the address lookup, such as the listen-key POST, the handshake, a
/// read, a handler) is reported as a diagnostic and answered with a reconnect after a jittered backoff, never by a
/// dead loop. A dead connection is found by ping/pong (a ping unanswered within <see cref="BinanceConnectorOptions.WebSocketPongTimeout"/>
/// aborts it) and, where data never stops for long, by silence (no frame for the given time). Before Binance's 24-hour
/// limit the connection is replaced make-before-break: the new one is connected (and resubscribed) first, the old one
/// keeps being read for an overlap and is then closed, so nothing sent meanwhile is lost; a frame may arrive on both,
/// so handlers must tolerate duplicates. Handlers are called one at a time.
/// </summary>
internal sealed class ReconnectingWebSocket : IAsyncDisposable
{
    private readonly string _name;
    private readonly BinanceConnectorOptions _options;
    private readonly Func<CancellationToken, Task<Uri>> _address;
    private readonly WebSocketFrames.MessageHandler _onMessage;
    private readonly Func<Link, bool, CancellationToken, Task>? _onConnected;
    private readonly Action? _onDown;
    private readonly Action? _onUp;
    private readonly TimeSpan? _silenceTimeout;
    private readonly int? _messagesPerSecond;
    private readonly Lock _deliver = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _watchdog;
    private volatile Link? _current;
    private Task? _loop;
    private int _rollingOver;
    private long _connections;

    /// <param name="name">Names the connection in diagnostics ("market /public", "user stream").</param>
    /// <param name="options">Addresses, clock, timeouts (ping, silence, lifetime) and diagnostics.</param>
    /// <param name="address">The URL to connect to, asked anew for every connection (a user stream needs a live listen key).</param>
    /// <param name="onMessage">Every text message, on any link; called one at a time.</param>
    /// <param name="onConnected">After each handshake, before any frame is read: resubscribe. The flag says a planned replacement (nothing was lost).</param>
    /// <param name="onDown">The connection was lost (not on a planned replacement).</param>
    /// <param name="onUp">A lost connection is back (after <paramref name="onConnected"/>).</param>
    /// <param name="silenceTimeout">No frame for this long means a dead feed: reconnect. Null where silence is normal (user data, order entry).</param>
    /// <param name="messagesPerSecond">Paces what this side sends; null for no pacing.</param>
    public ReconnectingWebSocket(
        string name,
        BinanceConnectorOptions options,
        Func<CancellationToken, Task<Uri>> address,
        WebSocketFrames.MessageHandler onMessage,
        Func<Link, bool, CancellationToken, Task>? onConnected = null,
        Action? onDown = null,
        Action? onUp = null,
        TimeSpan? silenceTimeout = null,
        int? messagesPerSecond = null)
    {
        _name = name;
        _options = options;
        _address = address;
        _onMessage = onMessage;
        _onConnected = onConnected;
        _onDown = onDown;
        _onUp = onUp;
        _silenceTimeout = silenceTimeout;
        _messagesPerSecond = messagesPerSecond;
        var check = TimeSpan.FromSeconds(1);
        if (silenceTimeout is { } silence && silence / 4 < check)
        {
            check = silence / 4;
        }

        _watchdog = options.Time.CreateTimer(_ => Watch(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        WatchInterval = check;
    }

    /// <summary>Whether a connection is open now.</summary>
    public bool IsUp => _current is { IsOpen: true };

    /// <summary>Connections opened so far (reconnects and planned replacements included).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    private TimeSpan WatchInterval { get; }

    /// <summary>Opens the first connection; throws when it can't, so that a caller does not go on deaf.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var link = await OpenAsync(rollover: false, cancellationToken).ConfigureAwait(false);
        _ = ReadAsync(link);
        _loop = Task.Run(RunAsync, CancellationToken.None);
        _watchdog.Change(WatchInterval, WatchInterval);
    }

    /// <summary>Sends one text message on the current connection (paced); false when there is none or the send failed.</summary>
    /// <summary>
    /// The open socket now, for a sender that keeps its own send gate and stamps the hand-off itself (the WebSocket API
    /// order entry); null while down. Such a connection must not also be sent on through <see cref="SendAsync"/>.
    /// </summary>
    public System.Net.WebSockets.WebSocket? CurrentSocket => _current is { IsOpen: true } link ? link.Socket : null;

    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        _current is { } link ? link.SendAsync(message, cancellationToken) : ValueTask.FromResult(false);

    /// <summary>
    /// Drops the current connection so that the loop opens a new one (reported down, then up, as any drop): for a
    /// connection the server left open though nothing more will come on it, such as a user stream whose listen key
    /// expired (Binance may keep that socket open, §7).
    /// </summary>
    public void Reconnect(string reason)
    {
        if (_current is { } link && !_stop.IsCancellationRequested)
        {
            _options.Diagnostics?.Invoke($"{_name}: {reason}; reconnecting");
            link.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watchdog.DisposeAsync().ConfigureAwait(false);
        _current?.Abort();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _current?.Dispose();
        _stop.Dispose();
    }

    private async Task<Link> OpenAsync(bool rollover, CancellationToken cancellationToken)
    {
        var uri = await _address(cancellationToken).ConfigureAwait(false);
        var socket = new ClientWebSocket();
        // With a timeout set the socket sends pings (not unsolicited pongs) and aborts when no pong comes back. Binance
        // answers a client's ping (binance-futures-connector-python issue 152, citing dev.binance.vision topic 43); the
        // pongs to Binance's own pings (§6: every 3 minutes) are sent by the socket itself, echoing the payload.
        socket.Options.KeepAliveInterval = _options.WebSocketPingInterval;
        socket.Options.KeepAliveTimeout = _options.WebSocketPongTimeout;
        var link = new Link(socket, _options.Time, _messagesPerSecond);
        var previous = _current;
        try
        {
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _connections);

            // Current before resubscribing, so that a subscription added meanwhile goes to the new connection too.
            _current = link;
            if (_onConnected is not null)
            {
                await _onConnected(link, rollover, cancellationToken).ConfigureAwait(false);
            }

            return link;
        }
        catch
        {
            // A replacement that failed leaves the old connection in place; the loop, should it already wait on this
            // link, must hear that it ended.
            Interlocked.CompareExchange(ref _current, previous, link);
            link.SetEnded(new WebSocketException("the connection failed while opening"));
            link.Dispose();
            throw;
        }
    }

    /// <summary>Reads one link until it ends, then completes its <see cref="Link.Ended"/> with the exception that ended it (null for a close).</summary>
    private async Task ReadAsync(Link link)
    {
        void Deliver(ReadOnlySpan<byte> message, long receivedTimestamp)
        {
            link.LastFrameTimestamp = receivedTimestamp;
            lock (_deliver)
            {
                try
                {
                    _onMessage(message, receivedTimestamp);
                }
                catch (Exception e)
                {
                    // One unreadable frame must not take the feed down with it.
                    _options.Diagnostics?.Invoke($"{_name}: frame skipped ({e.GetType().Name}: {e.Message})");
                }
            }
        }

        link.MarkReading();
        Exception? ended = null;
        try
        {
            await link.Frames.ReadAllAsync(link.Socket, _options.Time, Deliver, link.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ended = e;
        }

        link.SetEnded(ended);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            var link = _current!;
            var ended = await link.Ended.ConfigureAwait(false);
            if (token.IsCancellationRequested)
            {
                break;
            }

            if (!ReferenceEquals(link, _current))
            {
                // Replaced on purpose: the new link is already being read.
                link.Dispose();
                continue;
            }

            _options.Diagnostics?.Invoke($"{_name} dropped: {ended?.Message ?? "closed by the server"}");
            _current = null;
            link.Dispose();
            _onDown?.Invoke();
            if (!await ReconnectAsync(token).ConfigureAwait(false))
            {
                break;
            }

            _onUp?.Invoke();
        }
    }

    private async Task<bool> ReconnectAsync(CancellationToken token)
    {
        for (var failures = 0; ; failures++)
        {
            try
            {
                await Task.Delay(Backoff.Jittered(failures, _options.MaxReconnectDelay), _options.Time, token).ConfigureAwait(false);
                var link = await OpenAsync(rollover: false, token).ConfigureAwait(false);
                _ = ReadAsync(link);
                return true;
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                // Every failure is retried: a listen-key POST that timed out (TaskCanceledException) as much as a refused handshake.
                _options.Diagnostics?.Invoke($"{_name} reconnect failed ({e.GetType().Name}: {e.Message}); retrying");
            }
        }
    }

    private void Watch()
    {
        var link = _current;
        if (link is null || _stop.IsCancellationRequested)
        {
            return;
        }

        var time = _options.Time;
        if (_silenceTimeout is { } silence && time.GetElapsedTime(link.LastFrameTimestamp) > silence)
        {
            // The read ends with an exception and the loop reconnects (and resubscribes).
            _options.Diagnostics?.Invoke($"{_name}: no frame for {silence.TotalSeconds:0.#} s; reconnecting");
            link.Abort();
            return;
        }

        // Binance closes a connection after 24 hours (§6 of binance-futures-api.md): replace it before that.
        if (time.GetElapsedTime(link.OpenedTimestamp) >= _options.WebSocketLifetime && Interlocked.Exchange(ref _rollingOver, 1) == 0)
        {
            _ = RollOverAsync(link);
        }
    }

    private async Task RollOverAsync(Link old)
    {
        var token = _stop.Token;
        try
        {
            var fresh = await OpenAsync(rollover: true, token).ConfigureAwait(false);
            _ = ReadAsync(fresh);

            // Frames already on their way on the old connection (and answers to requests sent on it) still arrive.
            await Task.Delay(_options.RequestTimeout, _options.Time, token).ConfigureAwait(false);
            await old.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            // The old connection goes on; the watchdog tries again on its next tick.
            _options.Diagnostics?.Invoke($"{_name}: replacing the connection failed ({e.GetType().Name}: {e.Message})");
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop disposes only the current link.
            old.Dispose();
        }
        finally
        {
            Interlocked.Exchange(ref _rollingOver, 0);
        }
    }

    /// <summary>One connection: its socket, its receive buffer, its send pacing.</summary>
    internal sealed class Link : IDisposable
    {
        private readonly TimeProvider _time;
        private readonly CancellationTokenSource _cancel = new();
        private readonly SemaphoreSlim _sendGate = new(1, 1);
        private readonly TaskCompletionSource<Exception?> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long[]? _recentSends;
        private int _nextSend;
        private int _disposed;
        private int _reading;

        public Link(ClientWebSocket socket, TimeProvider time, int? messagesPerSecond)
        {
            Socket = socket;
            _time = time;
            OpenedTimestamp = time.GetTimestamp();
            LastFrameTimestamp = OpenedTimestamp;
            if (messagesPerSecond is { } rate)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
                _recentSends = new long[rate];
            }
        }

        public ClientWebSocket Socket { get; }

        public WebSocketFrames Frames { get; } = new();

        public long OpenedTimestamp { get; }

        public long LastFrameTimestamp
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }

        public CancellationToken Token => _cancel.Token;

        public bool IsOpen => Socket.State == WebSocketState.Open;

        /// <summary>Completes when reading this link has ended: with the exception that ended it, or null for a close.</summary>
        public Task<Exception?> Ended => _ended.Task;

        public void MarkReading() => Volatile.Write(ref _reading, 1);

        public void SetEnded(Exception? reason) => _ended.TrySetResult(reason);

        /// <summary>
        /// Sends one message, waiting for room when paced: at most the given count in any sliding second, as Binance
        /// counts the messages it receives (§6: 10 a second, else disconnect).
        /// </summary>
        public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        {
            try
            {
                await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (_recentSends is not null)
                    {
                        var oldest = _recentSends[_nextSend];
                        var wait = oldest == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(1) - _time.GetElapsedTime(oldest);
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    await Socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                    if (_recentSends is not null)
                    {
                        _recentSends[_nextSend] = _time.GetTimestamp();
                        _nextSend = (_nextSend + 1) % _recentSends.Length;
                    }

                    return true;
                }
                finally
                {
                    _sendGate.Release();
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Drops the connection at once (dead feed, stopping); the read ends with an exception.</summary>
        public void Abort()
        {
            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already gone.
            }

            Socket.Abort();
        }

        /// <summary>Closes politely (a planned replacement), aborting when the other side does not answer in time.</summary>
        public async Task CloseAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "replaced", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // It is being dropped anyway.
            }

            Abort();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            Abort();
            Socket.Dispose();

            // The buffer goes back to the pool only once nothing reads into it.
            if (Volatile.Read(ref _reading) == 0)
            {
                Frames.Dispose();
            }
            else
            {
                _ = Ended.ContinueWith(_ => Frames.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            _sendGate.Dispose();
            _cancel.Dispose();
        }
    }
}

/// <summary>Reconnect delays: exponential from 100 ms with full jitter, capped.</summary>
internal static class Backoff
{
    public static TimeSpan Jittered(int failures, TimeSpan max)
    {
        var ceiling = Math.Min(max.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures, 10)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }
}

using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Chaser.Binance.Parsing;
using Chaser.Binance.Requests;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Rules;

namespace Chaser.Benchmarks;

/// <summary>
/// The hot path, stage by stage and whole: a combined-stream bookTicker frame → BookTop → one chaser decision → the
/// signed request bytes the connector hands to the socket. Each iteration's frame raises the best bid by one tick
/// (written into a reused buffer, as a socket receive would, so the cost of writing it is included), so every
/// decision is a real re-price (a modify), answered by an accept so the next one can follow. The WebSocket API rows
/// end at the socket hand-off: the frame built and signed into a pooled buffer and given to a socket stand-in that
/// copies the bytes (as a real send copies them into its buffer), then the buffer returned.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Percentiles))]
public class HotPathBenchmarks : IDisposable
{
    private static readonly SymbolRules Btc = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.10m,
        MinPrice = 261.10m,
        MaxPrice = 809_484m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MaxQty = 1_000m,
        MinNotional = 100m,
        PricePrecision = 2,
        QuantityPrecision = 3,
    };

    // Each book arrives after the quantitative rules' young-cancel window (5 s), so no re-price is ever held back and
    // every decision measured is a real modify.
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(6);

    private readonly MarketDataParser _parser = new();
    private readonly byte[] _request = new byte[BinanceRequests.MaxQueryLength];
    private readonly HmacSha256Signer _signer = new(Secret.FromText("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"));
    private readonly byte[] _frame = new byte[256];
    private readonly CopyingSocket _socket = new();
    private readonly LegacyWsApiFrame _legacy;
    private long _tick;
    private ChaserStateMachine _machine = null!;
    private DateTimeOffset _now;
    private int _next;

    public HotPathBenchmarks() => _legacy = new LegacyWsApiFrame(ApiKey, _signer);

    private const string ApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";

    [GlobalSetup]
    public void Setup()
    {
        _now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
        _machine = new ChaserStateMachine(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000_000_000m), Btc, new ChaserOptions { MinRepriceInterval = TimeSpan.Zero });
        _machine.Start(_now);
        var place = _machine.OnBookTop(Parse(NextFrame()), _now)[0];
        Acknowledge(place);

        // Past the quantitative rules' young-cancel window, so re-pricing is never held back.
        _now += TimeSpan.FromMinutes(1);
    }

    /// <summary>Runs each path without the harness and says whether it did real work: every frame a re-price, every request signed.</summary>
    public static string SelfCheck(int iterations)
    {
        using var bench = new HotPathBenchmarks();
        bench.Setup();
        var decisions = 0;
        var requests = 0;
        var sent = 0;
        var loggedOn = 0;
        for (var i = 0; i < iterations; i++)
        {
            decisions += bench.Decide() > 0 ? 1 : 0;
            requests += bench.FrameToRequest() > 0 ? 1 : 0;
            sent += bench.FrameToSocket() > 0 ? 1 : 0;
            loggedOn += bench.FrameToSocketLoggedOn() > 0 ? 1 : 0;
        }

        // What the whole path to the socket allocates, measured after the loop above warmed it up.
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            sent += bench.FrameToSocket() > 0 ? 1 : 0;
        }

        var allocatedPerRequest = (double)(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / iterations;
        allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            loggedOn += bench.FrameToSocketLoggedOn() > 0 ? 1 : 0;
        }

        var allocatedLoggedOn = (double)(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / iterations;

        // The old frame and the new one are the same request, byte for byte in their params (signature included).
        var signing = new SigningContext(bench._signer, 1_764_000_000_000, 5_000);
        var modify = new ModifyOrder("BTCUSDT", Side.Buy, "chs-1-1", 65_000.10m, 0.154m);
        var restLength = BinanceRequests.ModifyOrder(bench._request, modify, Btc, signing);
        using var before = System.Text.Json.JsonDocument.Parse(bench._legacy.Frame("1", "order.modify", bench._request.AsSpan(0, restLength)));
        var frame = new byte[WsApiRequests.MaxFrameLength];
        using var after = System.Text.Json.JsonDocument.Parse(frame.AsMemory(0, WsApiRequests.OrderModify(frame, 1, modify, Btc, ApiKey, signing)));
        var same = before.RootElement.GetProperty("params").GetRawText() == after.RootElement.GetProperty("params").GetRawText();
        return $"{decisions}/{iterations} decisions re-priced, {requests}/{iterations} frames became signed requests, {sent}/{2 * iterations} WebSocket API frames handed to the socket ({allocatedPerRequest:0.##} B allocated per frame → socket over the last {iterations}), {loggedOn}/{2 * iterations} logged-on unsigned frames handed to the socket ({allocatedLoggedOn:0.##} B per frame), last price {bench._machine.OpenChild?.Price}; old and new frames carry identical signed params: {same}";
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _signer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>What writing the frame costs on its own: part of every other benchmark here, not of the engine.</summary>
    [Benchmark(Description = "(harness) write the frame")]
    public int WriteFrame() => NextFrame().Length;

    /// <summary>
    /// The floor every other row is judged against (its Ratio column): the same frame, written the same way, read token
    /// by token with a plain <see cref="System.Text.Json.Utf8JsonReader"/>, no value converted. Nothing that reads the
    /// frame at all can be cheaper.
    /// </summary>
    [Benchmark(Baseline = true, Description = "(floor) write + tokenise the frame")]
    public int TokeniseFrame()
    {
        var reader = new System.Text.Json.Utf8JsonReader(NextFrame());
        var tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark(Description = "parse bookTicker frame")]
    public BookTop ParseFrame() => Parse(NextFrame());

    [Benchmark(Description = "one chaser decision (re-price)")]
    public decimal Decide()
    {
        var top = Parse(NextFrame());
        _now += Step;
        var decisions = _machine.OnBookTop(top, _now);
        if (decisions.Count == 0)
        {
            return 0m; // only when the price range wraps around (once per 7 million iterations)
        }

        // The decisions view is the machine's own buffer, valid until its next event: read before acknowledging.
        var command = decisions[0];
        Acknowledge(command);
        return command.Price;
    }

    [Benchmark(Description = "build + sign order request")]
    public int BuildAndSign()
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65_000.10m, 0.154m, "chs-1-1");
        return BinanceRequests.NewOrder(_request, order, Btc, new SigningContext(_signer, 1_764_000_000_000 + _next++, 5_000));
    }

    [Benchmark(Description = "frame → decision → signed request")]
    public int FrameToRequest()
    {
        var top = Parse(NextFrame());
        _now += Step;
        var decisions = _machine.OnBookTop(top, _now);
        if (decisions.Count == 0)
        {
            return 0;
        }

        var command = decisions[0];
        var length = BinanceRequests.ModifyOrder(
            _request,
            new ModifyOrder("BTCUSDT", command.Side, command.ClientOrderId, command.Price, command.Quantity),
            Btc,
            new SigningContext(_signer, _now.ToUnixTimeMilliseconds(), 5_000));
        Acknowledge(command);
        return length;
    }

    // Measured (bench/README.md, issue 12, a loaded 2-core machine): before 8.3 µs and 4,416 B per frame, after 2.9 µs and 0 B.

    /// <summary>Before: what the connector did until now: the REST query built and signed, then decoded to strings, re-sorted, re-signed and re-serialised.</summary>
    [Benchmark(Description = "WS API frame, before (REST query → re-parse, sort, re-sign)")]
    public int FrameBefore() => _legacy.Frame("chs-1-1.42", "order.modify", _request.AsSpan(0, RestModify())).Length;

    /// <summary>After: the frame written once, straight into a pooled buffer, signed once.</summary>
    [Benchmark(Description = "WS API frame, after (built + signed once, pooled)")]
    public int FrameAfter()
    {
        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        var length = WsApiRequests.OrderModify(frame, _next++, new ModifyOrder("BTCUSDT", Side.Buy, "chs-1-1", 65_000.10m, 0.154m), Btc, ApiKey, new SigningContext(_signer, 1_764_000_000_000 + _next, 5_000));
        ArrayPool<byte>.Shared.Return(frame);
        return length;
    }

    [Benchmark(Description = "frame → decision → WS API frame → socket")]
    public int FrameToSocket() => DecideAndSend(loggedOn: false);

    /// <summary>The frame for a connection logged on by <c>session.logon</c> (Ed25519 keys): no apiKey, no signature.</summary>
    [Benchmark(Description = "WS API frame, logged on (unsigned, pooled)")]
    public int FrameLoggedOn()
    {
        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        var length = WsApiRequests.OrderModifyLoggedOn(frame, _next++, new ModifyOrder("BTCUSDT", Side.Buy, "chs-1-1", 65_000.10m, 0.154m), Btc, new SigningContext(_signer, 1_764_000_000_000 + _next, 5_000));
        ArrayPool<byte>.Shared.Return(frame);
        return length;
    }

    /// <summary>The whole path on a logged-on connection: the frame → socket row without the per-request signature.</summary>
    [Benchmark(Description = "frame → decision → WS API frame (logged on, unsigned) → socket")]
    public int FrameToSocketLoggedOn() => DecideAndSend(loggedOn: true);

    /// <summary>Frame → decision → WS API frame → the socket stand-in, the frame signed or (logged on) not.</summary>
    private int DecideAndSend(bool loggedOn)
    {
        var top = Parse(NextFrame());
        _now += Step;
        var decisions = _machine.OnBookTop(top, _now);
        if (decisions.Count == 0)
        {
            return 0;
        }

        var command = decisions[0];
        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        var modify = new ModifyOrder("BTCUSDT", command.Side, command.ClientOrderId, command.Price, command.Quantity);
        var signing = new SigningContext(_signer, _now.ToUnixTimeMilliseconds(), 5_000);
        var length = loggedOn
            ? WsApiRequests.OrderModifyLoggedOn(frame, _next++, modify, Btc, signing)
            : WsApiRequests.OrderModify(frame, _next++, modify, Btc, ApiKey, signing);
        var send = _socket.SendAsync(frame.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        if (!send.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the stand-in completes every send at once");
        }

        ArrayPool<byte>.Shared.Return(frame);
        Acknowledge(command);
        return length;
    }

    /// <summary>One logged-on frame → socket iteration with each piece's time added to <paramref name="sums"/> (<see cref="HotPathPieces"/>).</summary>
    internal void TimedPieces(long[] sums)
    {
        var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var frame = NextFrame();
        var t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        var reader = new System.Text.Json.Utf8JsonReader(frame);
        while (reader.Read())
        {
        }

        var t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        _parser.Parse(frame);
        var t3 = System.Diagnostics.Stopwatch.GetTimestamp();
        var top = _parser.BookTicker.ToBookTop();
        _now += Step;
        var t4 = System.Diagnostics.Stopwatch.GetTimestamp();
        var decisions = _machine.OnBookTop(top, _now);
        var t5 = System.Diagnostics.Stopwatch.GetTimestamp();
        var command = decisions[0];
        var buffer = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        var t6 = System.Diagnostics.Stopwatch.GetTimestamp();
        var length = WsApiRequests.OrderModifyLoggedOn(buffer, _next++, new ModifyOrder("BTCUSDT", command.Side, command.ClientOrderId, command.Price, command.Quantity), Btc, new SigningContext(_signer, _now.ToUnixTimeMilliseconds(), 5_000));
        var t7 = System.Diagnostics.Stopwatch.GetTimestamp();
        var send = _socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        if (!send.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the stand-in completes every send at once");
        }

        ArrayPool<byte>.Shared.Return(buffer);
        var t8 = System.Diagnostics.Stopwatch.GetTimestamp();
        Acknowledge(command);
        var t9 = System.Diagnostics.Stopwatch.GetTimestamp();
        sums[0] += t1 - t0;
        sums[1] += t2 - t1;
        sums[2] += t3 - t2;
        sums[3] += t4 - t3;
        sums[4] += t5 - t4;
        sums[5] += t7 - t6;
        sums[6] += (t6 - t5) + (t8 - t7);
        sums[7] += t9 - t8;
    }

    /// <summary>Small pieces of the path, each alone (<see cref="HotPathPieces.Alone"/>).</summary>
    internal static (string Name, Func<int> Once)[] PiecesAlone()
    {
        var bench = new HotPathBenchmarks();
        bench.Setup();
        var modify = new ModifyOrder("BTCUSDT", Side.Buy, "chs-1-1", 65_000.10m, 0.154m);
        var signing = new SigningContext(bench._signer, 1_764_000_000_000, 5_000);
        var text = new byte[64];
        var price = 65_000.1m;
        return
        [
            ("write the frame", () => bench.NextFrame().Length),
            ("tokenise", bench.TokeniseFrame),
            ("Parse, general path (Utf8JsonReader)", () => (int)bench._parser.ParseGeneral(bench.NextFrame())),
            ("Parse (production)", () => (int)bench._parser.Parse(bench.NextFrame())),
            ("pool rent + return", () =>
            {
                var b = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
                ArrayPool<byte>.Shared.Return(b);
                return b.Length;
            }),
            ("2 × OnGrid", () => OrderParameters.OnGrid("price", modify.Price, Btc.TickSize, Btc.MinPrice) > 0 && OrderParameters.OnGrid("quantity", modify.Quantity, Btc.StepSize) > 0 ? 1 : 0),
            ("2 × IsOnGrid alone", () => (OrderParameters.IsOnGrid(modify.Price, Btc.MinPrice, Btc.TickSize) ? 1 : 0) + (OrderParameters.IsOnGrid(modify.Quantity, 0m, Btc.StepSize) ? 1 : 0)),
            ("2 × (value <= 0, increment > 0)", () => (modify.Price <= 0 || Btc.TickSize > 0 ? 1 : 0) + (modify.Quantity <= 0 || Btc.StepSize > 0 ? 1 : 0)),
            ("2 × DecimalWire.Format", () => Chaser.Binance.DecimalWire.Format(modify.Price, text) + Chaser.Binance.DecimalWire.Format(modify.Quantity, text)),
            ("OrderModifyLoggedOn into a fixed buffer", () => WsApiRequests.OrderModifyLoggedOn(bench._request, 1, modify, Btc, signing)),
            ("frame: start + close", () =>
            {
                var w = new WsApiFrameWriter(bench._request, 1, "order.modify"u8);
                return w.Close();
            }),
            ("frame: + 2 strings", () =>
            {
                var w = new WsApiFrameWriter(bench._request, 1, "order.modify"u8);
                w.Add("origClientOrderId"u8, "chs-1-1");
                w.Add("symbol"u8, "BTCUSDT");
                return w.Close();
            }),
            ("frame: + 2 strings + 3 longs + raw", () =>
            {
                var w = new WsApiFrameWriter(bench._request, 1, "order.modify"u8);
                w.Add("origClientOrderId"u8, "chs-1-1");
                w.Add("recvWindow"u8, 5000L);
                w.AddRaw("side"u8, "BUY"u8);
                w.Add("symbol"u8, "BTCUSDT");
                w.Add("timestamp"u8, 1_764_000_000_000L);
                return w.Close();
            }),
            ("frame: + 2 decimals (all but OnGrid)", () =>
            {
                var w = new WsApiFrameWriter(bench._request, 1, "order.modify"u8);
                w.Add("origClientOrderId"u8, "chs-1-1");
                w.Add("price"u8, modify.Price);
                w.Add("quantity"u8, modify.Quantity);
                w.Add("recvWindow"u8, 5000L);
                w.AddRaw("side"u8, "BUY"u8);
                w.Add("symbol"u8, "BTCUSDT");
                w.Add("timestamp"u8, 1_764_000_000_000L);
                return w.Close();
            }),
            ("leaves: FloorQuantity(notional / price)", () =>
            {
                price += 0.1m;
                return (int)Btc.FloorQuantity(1_000_000_000m / price);
            }),
            ("leaves: QuantityForNotional (integers)", () =>
            {
                price += 0.1m;
                return (int)Btc.QuantityForNotional(1_000_000_000m, price);
            }),
            ("decimal compare ×4", () => (price > 1m ? 1 : 0) + (price < 2m ? 1 : 0) + (price == 3m ? 1 : 0) + (price != 4m ? 1 : 0)),
        ];
    }

    private int RestModify() => BinanceRequests.ModifyOrder(
        _request,
        new ModifyOrder("BTCUSDT", Side.Buy, "chs-1-1", 65_000.10m, 0.154m),
        Btc,
        new SigningContext(_signer, 1_764_000_000_000 + _next++, 5_000));

    /// <summary>The next bookTicker frame, one tick higher than the last (wrapping within the symbol's price band).</summary>
    private ReadOnlySpan<byte> NextFrame()
    {
        var tick = _tick++ % 7_000_000;
        var bid = 65_000.10m + (tick * 0.10m);
        var span = _frame.AsSpan();
        var written = Append(span, "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":"u8);
        Utf8Formatter.TryFormat(3_682_854_202_063 + _tick, span[written..], out var n);
        written += n;
        written += Append(span[written..], ",\"s\":\"BTCUSDT\",\"b\":\""u8);
        Utf8Formatter.TryFormat(bid, span[written..], out n);
        written += n;
        written += Append(span[written..], "\",\"B\":\"2.431\",\"a\":\""u8);
        Utf8Formatter.TryFormat(bid + 0.10m, span[written..], out n);
        written += n;
        written += Append(span[written..], "\",\"A\":\"0.105\",\"T\":"u8);
        Utf8Formatter.TryFormat(_now.ToUnixTimeMilliseconds(), span[written..], out n);
        written += n;
        written += Append(span[written..], ",\"E\":"u8);
        Utf8Formatter.TryFormat(_now.ToUnixTimeMilliseconds(), span[written..], out n);
        written += n;
        written += Append(span[written..], "}}"u8);
        return span[..written];
    }

    private static int Append(Span<byte> destination, ReadOnlySpan<byte> text)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    /// <summary>The frame read as a market connection reads it (<c>MarketStream</c>: <see cref="MarketDataParser.Parse"/>, then the Core view).</summary>
    private BookTop Parse(ReadOnlySpan<byte> frame) => _parser.Parse(frame) == MarketEventType.BookTicker
        ? _parser.BookTicker.ToBookTop()
        : throw new InvalidOperationException("the harness writes bookTicker frames only");

    private void Acknowledge(in ChaserCommand command) =>
        _machine.OnAccepted(new OrderAccepted(command.ClientOrderId, 42, command.Price, command.Quantity, command.Kind == ChaserCommandKind.Modify, _now, _now));

    /// <summary>Adds the median and the 99th percentile to the table.</summary>
    private sealed class Percentiles : ManualConfig
    {
        public Percentiles() => AddColumn(StatisticColumn.P50, StatisticColumn.P95, StatisticColumn.Max);
    }
}

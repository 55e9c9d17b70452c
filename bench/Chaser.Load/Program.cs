using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Load;

/// <summary>
/// The load driver: a separate <c>chaser sim</c> and a separate <c>chaser serve</c> pointed at it, M parent orders over
/// the HTTP API spread over N recorded perpetuals, then every order checked with the exchange as the arbiter (its
/// userTrades, its open orders, its own rate-limit counters). Exit 0 when every check holds, 1 when one fails, 2 on bad
/// options.
/// </summary>
internal static class Program
{
    // The simulator's documented default keys (SimulatorOptions.DefaultApiKey/Secret): what `chaser serve --venue sim` uses.
    private const string SimKey = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
    private const string SimSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static async Task<int> Main(string[] args)
    {
        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync("chaser-load: " + e.Message).ConfigureAwait(false);
            return 2;
        }

        using var run = new LoadRun(options);
        // Stopped from outside (Ctrl-C, kill): the sim and the serve go with it rather than linger.
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, _ => run.Dispose());
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => run.Dispose());
        try
        {
            return await run.RunAsync().ConfigureAwait(false);
        }
        catch (LoadFailure e)
        {
            await Console.Error.WriteLineAsync("chaser-load: " + e.Message).ConfigureAwait(false);
            return 1;
        }
    }

    internal static string Sign(string query)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(SimSecret), Encoding.UTF8.GetBytes(query));
        return Convert.ToHexStringLower(mac);
    }

    internal static string Key => SimKey;

    internal static string F(FormattableString text) => text.ToString(Inv);
}

internal sealed class LoadFailure(string message) : Exception(message);

internal sealed record LoadOptions(
    int Orders,
    int Symbols,
    string Chaser,
    string? Db,
    double SoakMinutes,
    int Active,
    TimeSpan Timeout,
    int Seed,
    string RepoRoot,
    string ServeChaser,
    bool Ed25519 = false,
    string[]? ServeArgs = null)
{
    public static LoadOptions Parse(string[] args)
    {
        var root = FindRepoRoot();
        int orders = 200, symbols = 50, active = 75, seed = 17;
        string chaser = Path.Combine(root, "src", "Chaser.Cli", "bin", "Release", "net10.0", "chaser");
        string? db = null;
        string? serveChaser = null;
        double soak = 0;
        var ed25519 = false;
        var serveArgs = new List<string>();
        var timeout = TimeSpan.FromMinutes(10);
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option '{name}' needs a value");
            int Whole(int min, int max)
            {
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? v
                    : throw new ArgumentException($"option '{name}' must be a whole number from {min} to {max}, got '{text}'");
            }

            switch (name)
            {
                case "--orders": orders = Whole(1, 10_000); break;
                case "--symbols": symbols = Whole(1, 60); break;
                case "--active": active = Whole(1, 1_000); break;
                case "--seed": seed = Whole(0, int.MaxValue); break;
                case "--timeout-minutes": timeout = TimeSpan.FromMinutes(Whole(1, 600)); break;
                case "--soak": soak = Whole(1, 600); break;
                case "--chaser": chaser = Value(); break;
                case "--serve-chaser": serveChaser = Value(); break;
                case "--db": db = Value(); break;
                case "--ed25519": ed25519 = true; break;
                case "--serve-arg": serveArgs.Add(Value()); break;
                default: throw new ArgumentException($"unknown option '{name}' (--orders, --symbols, --soak, --active, --db, --chaser, --serve-chaser, --serve-arg, --seed, --timeout-minutes, --ed25519)");
            }
        }

        if (!File.Exists(chaser))
        {
            throw new ArgumentException($"option '--chaser': no chaser executable at {chaser} (build with dotnet build -c Release)");
        }

        // Another build's serve against this build's simulator (whose /sim/stats counts): an A/B of the engine alone.
        serveChaser ??= chaser;
        if (!File.Exists(serveChaser))
        {
            throw new ArgumentException($"option '--serve-chaser': no chaser executable at {serveChaser}");
        }

        return new LoadOptions(orders, symbols, chaser, db, soak, active, timeout, seed, root, serveChaser, ed25519, [.. serveArgs]);
    }

    private static string FindRepoRoot()
    {
        foreach (var start in (string[])[AppContext.BaseDirectory, Environment.CurrentDirectory])
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Chaser.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new ArgumentException("run from inside the repository (Chaser.sln not found above the driver or the current directory)");
    }
}

/// <summary>One symbol's rules as the simulator states them.</summary>
internal sealed record SymbolInfo(string Name, decimal MinNotional, decimal Step, decimal Tick);

/// <summary>One run: the two processes, the orders, the checks.</summary>
internal sealed class LoadRun(LoadOptions options) : IDisposable
{
    private static readonly string[] Terminal = ["filled", "canceled", "failed", "expired"];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly List<Process> _processes = [];
    private readonly List<string> _failures = [];
    private readonly List<(DateTimeOffset At, long RssKb)> _rss = [];
    private readonly Stopwatch _wall = new();
    private string _sim = "";
    private string _api = "";
    private string _db = "";
    private readonly Dictionary<long, JsonNode> _final = [];
    private Process? _serve;
    private string? _tempDir;
    private int _peakActive;
    private int _peakQueued;
    private int _disposed;

    public async Task<int> RunAsync()
    {
        var symbols = RecordedPerpetuals(options.Symbols);
        var simPort = FreePort();
        var apiPort = FreePort();
        _sim = Program.F($"http://127.0.0.1:{simPort}");
        _api = Program.F($"http://127.0.0.1:{apiPort}");
        _tempDir = Directory.CreateTempSubdirectory("chaser-load-").FullName;
        _db = options.Db ?? "Data Source=" + Path.Combine(_tempDir, "load.db");
        var db = _db;

        string[] simArgs = ["sim", "--port", simPort.ToString(CultureInfo.InvariantCulture), "--symbols", string.Join(',', symbols), "--seed", options.Seed.ToString(CultureInfo.InvariantCulture)];
        var serveEnvironment = new Dictionary<string, string> { ["CHASER_API_TOKEN"] = _token, ["CHASER_DB"] = db };
        if (options.Ed25519)
        {
            // An Ed25519 key made for this run (openssl), registered with the simulator: serve logs its WebSocket API
            // connection on (session.logon) and sends its orders unsigned, as it would on Binance with such a key.
            var (privatePem, publicFile) = await Ed25519KeyAsync().ConfigureAwait(false);
            simArgs = [.. simArgs, "--ed25519-api-key", Ed25519ApiKey, "--ed25519-public-key", publicFile];
            serveEnvironment["CHASER_BINANCE_API_KEY"] = Ed25519ApiKey;
            serveEnvironment["CHASER_BINANCE_API_SECRET"] = privatePem;
        }

        Start("sim", simArgs, null);
        await WaitUntilAsync(async () => (await _http.GetAsync(new Uri(_sim + "/fapi/v1/ping")).ConfigureAwait(false)).IsSuccessStatusCode, "the simulator to answer").ConfigureAwait(false);
        var rules = await SymbolRulesAsync(symbols).ConfigureAwait(false);

        _serve = Start("serve", ["serve", "--urls", _api, "--db", db, "--venue", "sim", "--rest-url", _sim, "--ws-url", _sim.Replace("http://", "ws://", StringComparison.Ordinal), "--seed", options.Seed.ToString(CultureInfo.InvariantCulture), .. options.ServeArgs ?? []],
            serveEnvironment);
        await WaitUntilAsync(async () => (await Api(HttpMethod.Get, "/api/orders?ids=0").ConfigureAwait(false)).IsSuccessStatusCode, "chaser serve to listen").ConfigureAwait(false);
        SampleRss();

        _wall.Start();
        var random = new Random(options.Seed);
        var ids = new List<long>();
        var specs = new Dictionary<long, (SymbolInfo Symbol, int Side, decimal Notional)>();
        var lastSample = Stopwatch.StartNew();
        if (options.SoakMinutes > 0)
        {
            // Orders arrive one by one at the rate that keeps about --active of them working (a first estimate of an
            // order's life of a minute, then adjusted to what is active), until the soak's time is up.
            var end = TimeSpan.FromMinutes(options.SoakMinutes);
            while (_wall.Elapsed < end)
            {
                var active = await ActiveCountAsync(ids).ConfigureAwait(false);
                if (active < options.Active)
                {
                    await SubmitAsync(Generate(options.Active - active, rules, random), ids, specs).ConfigureAwait(false);
                }

                if (lastSample.Elapsed >= TimeSpan.FromSeconds(30))
                {
                    SampleRss();
                    lastSample.Restart();
                }

                await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
        }
        else
        {
            await SubmitAsync(Generate(options.Orders, rules, random), ids, specs).ConfigureAwait(false);
        }

        var submittedIn = _wall.Elapsed;
        var orders = await WaitTerminalAsync(ids, lastSample).ConfigureAwait(false);
        var wall = _wall.Elapsed;
        SampleRss();

        var check = await CheckAsync(orders, specs, rules).ConfigureAwait(false);
        var stats = JsonNode.Parse(await _http.GetStringAsync(new Uri(_sim + "/sim/stats")).ConfigureAwait(false))!;
        var peak10 = stats["peakOrders10s"]!.GetValue<int>();
        var peak60 = stats["peakOrders1m"]!.GetValue<int>();
        var r429 = stats["rejected429"]!.GetValue<long>();
        var r418 = stats["rejected418"]!.GetValue<long>();
        var r1015 = stats["rejected1015"]!.GetValue<long>();
        if (r429 + r418 + r1015 > 0)
        {
            _failures.Add(Program.F($"the simulator refused {r429} × 429, {r418} × 418, {r1015} × -1015"));
        }

        if (peak10 >= 300 || peak60 >= 1_200)
        {
            _failures.Add(Program.F($"order count peaked at {peak10} in 10 s / {peak60} in 1 min (limits 300 / 1,200)"));
        }

        if (options.Ed25519 && !ServeSaid("logged on (session.logon)"))
        {
            _failures.Add("--ed25519: serve's order entry never logged on (session.logon); its orders went signed");
        }

        var load = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg").ConfigureAwait(false)).Split(' ')[..3] : ["?", "?", "?"];
        Print(orders, check, wall, submittedIn, stats, load);
        return _failures.Count == 0 ? 0 : 1;
    }

    private static List<(SymbolInfo Symbol, int Side, decimal Notional)> Generate(int count, List<SymbolInfo> rules, Random random)
    {
        var list = new List<(SymbolInfo, int, decimal)>(count);
        for (var i = 0; i < count; i++)
        {
            var symbol = rules[random.Next(rules.Count)];
            var side = random.Next(2) == 0 ? 1 : -1;
            // A few × the minimum notional up to a few thousand USDT, whole USDT.
            var low = Math.Max(symbol.MinNotional * 3m, 50m);
            var notional = decimal.Round(low + ((decimal)random.NextDouble() * Math.Max(0m, 3_000m - low)), 0);
            list.Add((symbol, side, notional));
        }

        return list;
    }

    private async Task SubmitAsync(List<(SymbolInfo Symbol, int Side, decimal Notional)> batch, List<long> ids, Dictionary<long, (SymbolInfo, int, decimal)> specs)
    {
        var array = new JsonArray();
        foreach (var (symbol, side, notional) in batch)
        {
            array.Add(new JsonObject
            {
                ["symbol"] = symbol.Name,
                ["side"] = side,
                ["size"] = notional,
                ["size_type"] = "n",
                ["strategy"] = "load",
            });
        }

        var created = await ApiJson(HttpMethod.Post, "/api/orders", array).ConfigureAwait(false);
        var newIds = created.AsArray().Select(o => o!["id"]!.GetValue<long>()).ToList();
        for (var i = 0; i < newIds.Count; i++)
        {
            specs[newIds[i]] = batch[i];
        }

        await ApiJson(HttpMethod.Post, "/api/orders/execute", new JsonObject { ["ids"] = new JsonArray([.. newIds.Select(id => JsonValue.Create(id))]) }).ConfigureAwait(false);
        ids.AddRange(newIds);
    }

    private async Task<int> ActiveCountAsync(List<long> ids)
    {
        var orders = await OrdersAsync(ids).ConfigureAwait(false);
        return orders.Count(o => !Terminal.Contains(o["status"]!.GetValue<string>()));
    }

    /// <summary>Every order's latest state: the ones already terminal as last seen, the others asked for again.</summary>
    private async Task<List<JsonNode>> OrdersAsync(List<long> ids)
    {
        var result = new List<JsonNode>(ids.Count);
        foreach (var chunk in ids.Where(id => !_final.ContainsKey(id)).Chunk(200))
        {
            var page = await ApiJson(HttpMethod.Get, "/api/orders?ids=" + string.Join(',', chunk), null).ConfigureAwait(false);
            foreach (var o in page.AsArray())
            {
                if (Terminal.Contains(o!["status"]!.GetValue<string>()))
                {
                    _final[o["id"]!.GetValue<long>()] = o;
                }
                else
                {
                    result.Add(o);
                }
            }
        }

        result.AddRange(ids.Where(_final.ContainsKey).Select(id => _final[id]));

        var working = result.Where(o => o["status"]!.GetValue<string>() == "working").ToList();
        // Active: started. Queued: not started while another order of its symbol and side works (the engine works
        // one per symbol and side at a time).
        var busy = working.Where(o => o["started_at"] is not null).Select(o => (o["symbol"]!.GetValue<string>(), o["side"]!.GetValue<int>())).ToHashSet();
        _peakActive = Math.Max(_peakActive, working.Count(o => o["started_at"] is not null));
        _peakQueued = Math.Max(_peakQueued, working.Count(o => o["started_at"] is null && busy.Contains((o["symbol"]!.GetValue<string>(), o["side"]!.GetValue<int>()))));
        return result;
    }

    private async Task<List<JsonNode>> WaitTerminalAsync(List<long> ids, Stopwatch lastSample)
    {
        var deadline = _wall.Elapsed + options.Timeout;
        while (true)
        {
            var orders = await OrdersAsync(ids).ConfigureAwait(false);
            var open = orders.Count(o => !Terminal.Contains(o["status"]!.GetValue<string>()));
            if (open == 0)
            {
                return orders;
            }

            if (_wall.Elapsed > deadline)
            {
                _failures.Add(Program.F($"{open} of {ids.Count} orders not terminal after {options.Timeout.TotalMinutes} min: {string.Join(' ', orders.Where(o => !Terminal.Contains(o["status"]!.GetValue<string>())).Take(10).Select(o => o["id"]!.ToString()))}"));
                return orders;
            }

            if (lastSample.Elapsed >= TimeSpan.FromSeconds(30))
            {
                SampleRss();
                lastSample.Restart();
            }

            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
    }

    private sealed record CheckResult(int FillsStored, int TradesOnExchange, int Reprices, double TickP50, double TickP99, int Samples, Percentiles AllTicks, Percentiles Hops, Dictionary<string, Percentiles> HopsByTrigger, string Fairness, string Stale, double StaleP99MaxMs, int HeldBack, Dictionary<string, int> RepricesBySymbol);

    private async Task<CheckResult> CheckAsync(List<JsonNode> orders, Dictionary<long, (SymbolInfo Symbol, int Side, decimal Notional)> specs, IReadOnlyList<SymbolInfo> rules)
    {
        // The exchange's side: every order of ours by client id, and every trade, per symbol.
        var exchangeTrades = new Dictionary<long, List<(long TradeId, decimal Price, decimal Qty)>>();
        var used = specs.Values.Select(s => s.Symbol.Name).Distinct(StringComparer.Ordinal).ToList();
        var tradesTotal = 0;
        foreach (var symbol in used)
        {
            var clientIds = new Dictionary<long, string>();
            for (long fromOrder = 0; ;)
            {
                var page = (await Signed("/fapi/v1/allOrders", Program.F($"symbol={symbol}&limit=1000&orderId={fromOrder}")).ConfigureAwait(false)).AsArray();
                foreach (var o in page)
                {
                    clientIds[o!["orderId"]!.GetValue<long>()] = o["clientOrderId"]!.GetValue<string>();
                }

                if (page.Count < 1000)
                {
                    break;
                }

                fromOrder = page.Max(o => o!["orderId"]!.GetValue<long>()) + 1;
            }

            long fromId = 0;
            while (true)
            {
                var page = (await Signed("/fapi/v1/userTrades", Program.F($"symbol={symbol}&limit=1000&fromId={fromId}")).ConfigureAwait(false)).AsArray();
                foreach (var t in page)
                {
                    var clientId = clientIds.GetValueOrDefault(t!["orderId"]!.GetValue<long>()) ?? "";
                    // chs-<tag>-<parent>-<seq>
                    var parts = clientId.Split('-');
                    if (parts.Length != 4 || parts[0] != "chs" || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var parent))
                    {
                        _failures.Add($"trade {t["id"]} on {symbol} of an order that is not ours ('{clientId}')");
                        continue;
                    }

                    if (!exchangeTrades.TryGetValue(parent, out var list))
                    {
                        exchangeTrades[parent] = list = [];
                    }

                    list.Add((t["id"]!.GetValue<long>(), Dec(t["price"]!), Dec(t["qty"]!)));
                    tradesTotal++;
                }

                if (page.Count < 1000)
                {
                    break;
                }

                fromId = page[^1]!["id"]!.GetValue<long>() + 1;
            }
        }

        var open = (await Signed("/fapi/v1/openOrders", "").ConfigureAwait(false)).AsArray();
        if (open.Count > 0)
        {
            _failures.Add(Program.F($"{open.Count} orders left open on the exchange, e.g. {open[0]!["clientOrderId"]}"));
        }

        // The stored side straight from the database (the API is rate-limited per minute; a soak has thousands of orders).
        var lowest = orders.Min(o => o["id"]!.GetValue<long>());
        var highest = orders.Max(o => o["id"]!.GetValue<long>());
        Dictionary<long, List<FillRow>> fillsByOrder;
        Dictionary<long, List<EventRow>> eventsByOrder;
        await using (var db = new ChaserDb(_db))
        {
            fillsByOrder = (await db.Fills.AsNoTracking().Where(f => f.OrderId >= lowest && f.OrderId <= highest).ToListAsync().ConfigureAwait(false))
                .GroupBy(f => f.OrderId).ToDictionary(g => g.Key, g => g.ToList());
            eventsByOrder = (await db.Events.AsNoTracking().Where(e => e.OrderId >= lowest && e.OrderId <= highest).ToListAsync().ConfigureAwait(false))
                .GroupBy(e => e.OrderId).ToDictionary(g => g.Key, g => g.ToList());
        }

        var stored = 0;
        var ticks = new List<double>();
        var allTicks = new List<double>();
        var hops = new List<double>();
        var hopsByTrigger = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var repricesBySymbol = used.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        var workingSecondsBySymbol = used.ToDictionary(s => s, _ => 0.0, StringComparer.Ordinal);
        var staleBySymbol = used.ToDictionary(s => s, _ => new List<double>(), StringComparer.Ordinal);
        foreach (var order in orders)
        {
            var id = order["id"]!.GetValue<long>();
            var status = order["status"]!.GetValue<string>();
            var (symbol, _, notional) = specs[id];
            if (status != "filled")
            {
                _failures.Add($"order {id} ({symbol.Name}) ended {status}: {order["status_detail"]}");
            }

            var fills = fillsByOrder.GetValueOrDefault(id, []).Select(f => (f.TradeId, f.Price, f.Qty)).OrderBy(f => f.TradeId).ToList();
            stored += fills.Count;
            var onExchange = exchangeTrades.GetValueOrDefault(id, []).OrderBy(f => f.TradeId).ToList();
            if (!fills.SequenceEqual(onExchange))
            {
                _failures.Add(Program.F($"order {id} ({symbol.Name}): {fills.Count} stored fills ({fills.Sum(f => f.Qty)}) against {onExchange.Count} exchange trades ({onExchange.Sum(f => f.Qty)})"));
            }

            var filledNotional = fills.Sum(f => f.Price * f.Qty);
            var maxPrice = fills.Count > 0 ? fills.Max(f => f.Price) : 0m;
            // At most one step of rounding past the target.
            if (filledNotional > notional + (symbol.Step * maxPrice))
            {
                _failures.Add(Program.F($"order {id} ({symbol.Name}) overfilled: {filledNotional} of {notional} USDT"));
            }

            var first = true;
            foreach (var e in eventsByOrder.GetValueOrDefault(id, []).OrderBy(e => e.Id))
            {
                if (e.HopUs is { } hop)
                {
                    hops.Add(hop);
                    // The order's first request is decided on its start (the latest book handed to it), not on a frame.
                    var cause = first ? "start" : e.Trigger;
                    first = false;
                    if (!hopsByTrigger.TryGetValue(cause, out var byTrigger))
                    {
                        hopsByTrigger[cause] = byTrigger = [];
                    }

                    byTrigger.Add(hop);
                }

                if (e.TickToOrderUs is { } us)
                {
                    allTicks.Add(us);
                    // A decision on the frame itself is the engine's own time; one on a timer or a budget report
                    // includes the wait the re-price interval or the rate budget imposed: the time the child stood stale.
                    if (e.Trigger is "timer" or "rate_budget" or "cancel_budget")
                    {
                        staleBySymbol[symbol.Name].Add(us / 1000);
                    }
                    else
                    {
                        ticks.Add(us);
                    }
                }

                if (e.Rule.StartsWith("reprice_", StringComparison.Ordinal))
                {
                    repricesBySymbol[symbol.Name]++;
                }
            }

            if (order["started_at"] is { } s && order["completed_at"] is { } c)
            {
                workingSecondsBySymbol[symbol.Name] += (DateTimeOffset.Parse(c.GetValue<string>(), CultureInfo.InvariantCulture) - DateTimeOffset.Parse(s.GetValue<string>(), CultureInfo.InvariantCulture)).TotalSeconds;
            }
        }

        if (stored != tradesTotal)
        {
            _failures.Add(Program.F($"{stored} fills stored against {tradesTotal} trades on the exchange"));
        }

        ticks.Sort();
        // Fairness: re-prices per working minute per symbol, the spread between the least and the most served.
        var rates = used.Where(s => workingSecondsBySymbol[s] > 0).Select(s => repricesBySymbol[s] / (workingSecondsBySymbol[s] / 60)).OrderBy(r => r).ToList();
        var fairness = rates.Count == 0 ? "-" : Program.F($"per symbol/min min {rates[0]:0.0} p50 {rates[rates.Count / 2]:0.0} max {rates[^1]:0.0}");
        // Stale time of a held-back re-price (ms, frame that made it stale → request), per symbol: its p99, then the
        // least and most of those across symbols — a starved symbol shows as a high maximum.
        var staleP99 = used.Where(s => staleBySymbol[s].Count > 0).Select(s =>
        {
            staleBySymbol[s].Sort();
            return Percentile(staleBySymbol[s], 0.99);
        }).OrderBy(v => v).ToList();
        var stale = staleP99.Count == 0 ? "none held back" : Program.F($"held-back stale p99 per symbol min {staleP99[0]:0} max {staleP99[^1]:0} ms");
        return new CheckResult(stored, tradesTotal, repricesBySymbol.Values.Sum(), Percentile(ticks, 0.5), Percentile(ticks, 0.99), ticks.Count, Percentiles.Of(allTicks), Percentiles.Of(hops), hopsByTrigger.ToDictionary(p => p.Key, p => Percentiles.Of(p.Value), StringComparer.Ordinal), fairness, stale, staleP99.Count == 0 ? 0 : staleP99[^1], staleBySymbol.Values.Sum(l => l.Count), repricesBySymbol);
    }

    private void Print(List<JsonNode> orders, CheckResult check, TimeSpan wall, TimeSpan submittedIn, JsonNode stats, string[] load)
    {
        var filled = orders.Count(o => o["status"]!.GetValue<string>() == "filled");
        var sent = stats["orders"]!.GetValue<long>();
        (long Start, long End, long Max) rss = _rss.Count > 0 ? (_rss[0].RssKb, _rss[^1].RssKb, _rss.Max(r => r.RssKb)) : (0L, 0L, 0L);
        Console.WriteLine(Program.F($"chaser load: {orders.Count} orders over {options.Symbols} symbols{(options.SoakMinutes > 0 ? $", soak {options.SoakMinutes} min" : "")}"));
        Console.WriteLine(Program.F($"  filled {filled}/{orders.Count}   wall {wall.TotalSeconds:0.0} s (submitted in {submittedIn.TotalSeconds:0.0} s)"));
        Console.WriteLine(Program.F($"  active at once: {_peakActive} working, {_peakQueued} queued (same symbol+side)"));
        Console.WriteLine(Program.F($"  fills stored {check.FillsStored} = exchange trades {check.TradesOnExchange}"));
        Console.WriteLine(Program.F($"  orders sent {sent} ({sent / Math.Max(wall.TotalMinutes, 1e-9):0}/min)  peak 10 s {stats["peakOrders10s"]}/300  peak 1 min {stats["peakOrders1m"]}/1200"));
        Console.WriteLine(Program.F($"  refused by the sim: 429 {stats["rejected429"]}  418 {stats["rejected418"]}  -1015 {stats["rejected1015"]}"));
        Console.WriteLine(Program.F($"  re-prices {check.Reprices} ({check.HeldBack} held back); {check.Fairness}"));
        Console.WriteLine("  " + check.Stale);
        Console.WriteLine(Program.F($"  tick-to-order p50 {check.TickP50:0.0} us  p99 {check.TickP99:0.0} us ({check.Samples} on a frame)"));
        Console.WriteLine("  tick-to-order, all " + check.AllTicks.ToMicroseconds());
        Console.WriteLine("  engine hop,    all " + check.Hops.ToMicroseconds());
        foreach (var (trigger, hops) in check.HopsByTrigger.OrderByDescending(p => p.Value.Count))
        {
            Console.WriteLine(Program.F($"    on {trigger,-14} ") + hops.ToMicroseconds());
        }

        Console.WriteLine(Program.F($"  serve RSS start {rss.Start / 1024.0:0.0} MB  end {rss.End / 1024.0:0.0} MB  max {rss.Max / 1024.0:0.0} MB"));
        Console.WriteLine($"  load average {string.Join(' ', load)}");
        Console.WriteLine(_failures.Count == 0 ? "  all checks passed" : Program.F($"  {_failures.Count} checks FAILED:"));
        foreach (var failure in _failures.Take(20))
        {
            Console.WriteLine("   - " + (failure.Length > 75 ? failure[..75] : failure));
        }

        var json = new JsonObject
        {
            ["orders"] = orders.Count,
            ["symbols"] = options.Symbols,
            ["soak_minutes"] = options.SoakMinutes,
            ["filled"] = filled,
            ["wall_s"] = Math.Round(wall.TotalSeconds, 1),
            ["peak_active"] = _peakActive,
            ["peak_queued"] = _peakQueued,
            ["fills_stored"] = check.FillsStored,
            ["exchange_trades"] = check.TradesOnExchange,
            ["orders_sent"] = sent,
            ["orders_per_min"] = Math.Round(sent / Math.Max(wall.TotalMinutes, 1e-9), 0),
            ["peak_orders_10s"] = stats["peakOrders10s"]!.GetValue<int>(),
            ["peak_orders_1m"] = stats["peakOrders1m"]!.GetValue<int>(),
            ["rejected_429"] = stats["rejected429"]!.GetValue<long>(),
            ["rejected_418"] = stats["rejected418"]!.GetValue<long>(),
            ["rejected_1015"] = stats["rejected1015"]!.GetValue<long>(),
            ["reprices"] = check.Reprices,
            ["reprices_held_back"] = check.HeldBack,
            ["held_back_stale_p99_max_symbol_ms"] = Math.Round(check.StaleP99MaxMs, 0),
            ["reprices_min_symbol"] = check.RepricesBySymbol.Values.DefaultIfEmpty().Min(),
            ["reprices_max_symbol"] = check.RepricesBySymbol.Values.DefaultIfEmpty().Max(),
            ["tick_to_order_p50_us"] = Math.Round(check.TickP50, 1),
            ["tick_to_order_p99_us"] = Math.Round(check.TickP99, 1),
            ["tick_to_order_all_us"] = check.AllTicks.ToJson(),
            ["hop_us"] = check.Hops.ToJson(),
            ["hop_us_by_trigger"] = new JsonObject(check.HopsByTrigger.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.ToJson()))),
            ["rss_start_kb"] = rss.Start,
            ["rss_end_kb"] = rss.End,
            ["rss_max_kb"] = rss.Max,
            ["rss_samples_kb"] = new JsonArray([.. _rss.Select(r => JsonValue.Create(r.RssKb))]),
            ["load_average"] = string.Join(' ', load),
            ["failures"] = new JsonArray([.. _failures.Select(f => JsonValue.Create(f))]),
        };
        Console.WriteLine(json.ToJsonString());
    }

    /// <summary>p50 / p99 / max over every decision of the run that measured one (in microseconds).</summary>
    private sealed record Percentiles(int Count, double P50, double P99, double Max)
    {
        public static Percentiles Of(List<double> samples)
        {
            samples.Sort();
            return new Percentiles(samples.Count, Percentile(samples, 0.5), Percentile(samples, 0.99), samples.Count == 0 ? double.NaN : samples[^1]);
        }

        public string ToMicroseconds() => Count == 0 ? "none measured" : Program.F($"p50 {P50:0.0} us  p99 {P99:0.0} us  max {Max:0.0} us ({Count})");

        public JsonObject ToJson() => new()
        {
            ["count"] = Count,
            ["p50"] = Count == 0 ? null : Math.Round(P50, 1),
            ["p99"] = Count == 0 ? null : Math.Round(P99, 1),
            ["max"] = Count == 0 ? null : Math.Round(Max, 1),
        };
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static decimal Dec(JsonNode node) => node.GetValueKind() == JsonValueKind.String
        ? decimal.Parse(node.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture)
        : node.GetValue<decimal>();

    private void SampleRss()
    {
        if (_serve is null || _serve.HasExited)
        {
            return;
        }

        var path = Program.F($"/proc/{_serve.Id}/status");
        var line = File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)) : null;
        if (line is not null && long.TryParse(line["VmRSS:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
        {
            _rss.Add((DateTimeOffset.UtcNow, kb));
            Console.Error.WriteLine(Program.F($"chaser-load: {_wall.Elapsed.TotalSeconds:0} s: serve RSS {kb / 1024.0:0.0} MB"));
        }
    }

    private async Task<JsonNode> Signed(string path, string query)
    {
        var q = (query.Length > 0 ? query + "&" : "") + Program.F($"timestamp={DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}&recvWindow=10000");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_sim + path + "?" + q + "&signature=" + Program.Sign(q)));
        request.Headers.Add("X-MBX-APIKEY", Program.Key);
        using var response = await _http.SendAsync(request).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        return response.IsSuccessStatusCode ? JsonNode.Parse(body)! : throw new LoadFailure(Program.F($"GET {path} on the simulator: {(int)response.StatusCode} {body}"));
    }

    private async Task<HttpResponseMessage> Api(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_api + path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return await _http.SendAsync(request).ConfigureAwait(false);
    }

    private async Task<JsonNode> ApiJson(HttpMethod method, string path, JsonNode? body)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await Api(method, path, body).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
            }

            // The API's own rate limit or a busy database: wait as told, a few times.
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < 20)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                continue;
            }

            throw new LoadFailure(Program.F($"{method} {path}: {(int)response.StatusCode} {text}"));
        }
    }

    private async Task<List<SymbolInfo>> SymbolRulesAsync(List<string> symbols)
    {
        var info = JsonNode.Parse(await _http.GetStringAsync(new Uri(_sim + "/fapi/v1/exchangeInfo")).ConfigureAwait(false))!;
        var result = new List<SymbolInfo>();
        foreach (var s in info["symbols"]!.AsArray())
        {
            var name = s!["symbol"]!.GetValue<string>();
            if (!symbols.Contains(name))
            {
                continue;
            }

            var filters = s["filters"]!.AsArray();
            decimal Filter(string type, string field) => Dec(filters.First(f => f!["filterType"]!.GetValue<string>() == type)![field]!);
            result.Add(new SymbolInfo(name, Filter("MIN_NOTIONAL", "notional"), Filter("LOT_SIZE", "stepSize"), Filter("PRICE_FILTER", "tickSize")));
        }

        return result.Count == symbols.Count ? result : throw new LoadFailure(Program.F($"the simulator lists {result.Count} of the {symbols.Count} symbols asked for"));
    }

    private List<string> RecordedPerpetuals(int count)
    {
        var path = Path.Combine(options.RepoRoot, "data", "binance", "fapi-v1-exchangeInfo-2024-10-20.json");
        var info = JsonNode.Parse(File.ReadAllText(path))!;
        return [.. info["symbols"]!.AsArray().Where(s => s!["contractType"]?.GetValue<string>() == "PERPETUAL").Select(s => s!["symbol"]!.GetValue<string>()).Take(count)];
    }

    private const string Ed25519ApiKey = "load-ed25519-key";

    private static readonly string[] ServeLogs = ["serve.log", "serve.out"];

    /// <summary>Whether serve's log or output holds <paramref name="text"/> (its diagnostics go to either).</summary>
    private bool ServeSaid(string text) =>
        ServeLogs.Select(f => Path.Combine(_tempDir!, f)).Any(f => File.Exists(f) && File.ReadAllText(f).Contains(text, StringComparison.Ordinal));

    private async Task<(string PrivatePem, string PublicFile)> Ed25519KeyAsync()
    {
        var privateFile = Path.Combine(_tempDir!, "ed25519.pem");
        var publicFile = Path.Combine(_tempDir!, "ed25519.pub.pem");
        await RunToolAsync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", privateFile]).ConfigureAwait(false);
        await RunToolAsync("openssl", ["pkey", "-in", privateFile, "-pubout", "-out", publicFile]).ConfigureAwait(false);
        return (await File.ReadAllTextAsync(privateFile).ConfigureAwait(false), publicFile);
    }

    private static async Task RunToolAsync(string tool, string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new LoadFailure("could not start " + tool);
        var error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new LoadFailure($"{tool} {args[0]} failed ({process.ExitCode}): {error.Trim()}");
        }
    }

    private Process Start(string name, string[] args, Dictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(name == "serve" ? options.ServeChaser : options.Chaser) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        info.Environment["CHASER_LOG"] = Path.Combine(_tempDir!, name + ".log");
        var process = Process.Start(info) ?? throw new LoadFailure("could not start chaser " + name);
        var log = new StreamWriter(Path.Combine(_tempDir!, name + ".out")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private async Task WaitUntilAsync(Func<Task<bool>> ready, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_processes.Any(p => p.HasExited))
            {
                throw new LoadFailure(Program.F($"a chaser process exited while waiting for {what}; logs in {_tempDir}"));
            }

            try
            {
                if (await ready().ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        throw new LoadFailure($"timed out waiting for {what}; logs in {_tempDir}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The serve first (it cancels its children on a stop), then the simulator.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            if (!process.HasExited)
            {
                try
                {
                    Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
                    if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
                    {
                        process.Kill();
                    }
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
            }

            process.Dispose();
        }

        _http.Dispose();
        Console.Error.WriteLine($"chaser-load: logs in {_tempDir}");
    }
}

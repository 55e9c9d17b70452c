using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Chaser.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Chaser.Cli.Tests;

/// <summary>
/// Damaged files, a refusing environment and unusable keys: each ends with exit code 2 and one line on stderr naming
/// the input (option, file, line, column) and the reason, never a stack trace; a damaged database gets nothing written.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private const string Window = "BTCUSDT-UM-20240718T2357Z";
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    private readonly string _directory = Directory.CreateTempSubdirectory("chaser-hostile-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    // ---- recorded data given to `chaser backtest` ----

    [Fact]
    public async Task A_gzip_file_cut_mid_stream_names_the_option_the_line_and_the_cut()
    {
        var book = Write("cut.csv.gz", File.ReadAllBytes(RecordedData.File(Window, "bookTicker"))[..3000]);

        AssertRefused(await BacktestAsync(book), "option '--book': ", "cut.csv.gz: line ", "cut short");
    }

    [Fact]
    public async Task A_gzip_file_cut_between_lines_is_caught_by_its_trailer()
    {
        // Whole lines compressed, the 8-byte trailer (CRC, length) cut off: every line decompresses, nothing looks wrong
        // but the length the trailer should have recorded.
        var lines = string.Join('\n', BookLines().Take(300)) + "\n";
        var book = Write("no-trailer.csv.gz", Gzip(lines)[..^8]);

        AssertRefused(await BacktestAsync(book), "option '--book': ", "no-trailer.csv.gz: ", "the gzip data ends early");
    }

    [Fact]
    public async Task A_plain_file_cut_mid_line_says_so()
    {
        var text = string.Join('\n', BookLines().Take(300));
        var book = WriteText("cut.csv", text[..^15]); // the last cell and the comma before it: six columns left

        AssertRefused(await BacktestAsync(book), "option '--book': ", "cut.csv: line 300: 6 columns where a bookTicker row has 7", "ends mid-line");
    }

    [Theory]
    [InlineData("empty.csv", "", "the file is empty")]
    [InlineData("words.csv", "hello world\nnot a dump\n", "line 1: no column 'update_id': this is not a bookTicker file")]
    [InlineData("noise.csv", "\u0001\u0002,\u00ff\n\u0003\n", "line 1: 2 columns where a bookTicker row has 7")]
    public async Task An_empty_or_foreign_file_is_named(string name, string content, string expected)
    {
        var book = WriteText(name, content);

        AssertRefused(await BacktestAsync(book), "option '--book': ", name, expected);
    }

    [Fact]
    public async Task A_file_named_gz_that_is_not_gzip_is_named()
    {
        var book = Write("random.csv.gz", [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))]);

        AssertRefused(await BacktestAsync(book), "option '--book': ", "random.csv.gz: is not gzip data");
    }

    [Fact]
    public async Task A_bad_cell_names_its_line_and_column()
    {
        var lines = BookLines().Take(50).ToArray();
        lines[2] = "4984028370881,abc,46.371,63944.00,0.095,1721347022507,1721347022507";
        var book = WriteText("bad-cell.csv", string.Join('\n', lines) + "\n");

        AssertRefused(await BacktestAsync(book), "option '--book': ", "bad-cell.csv: line 3, column 'best_bid_price': 'abc' is not a number");
    }

    [Fact]
    public async Task Swapped_files_name_the_option_and_the_kind_expected()
    {
        var trades = RecordedData.File(Window, "trades");
        var book = RecordedData.File(Window, "bookTicker");

        AssertRefused(await BacktestAsync(trades, trades), "option '--book': ", "this is not a bookTicker file (its header is 'id,price,qty");
        AssertRefused(await BacktestAsync(book, book), "option '--trades': ", "this is not a trades file (its header is 'update_id,");
        AssertRefused(
            await BacktestAsync(book, trades, "--depth-snapshot", RecordedData.File(Window, "depthUpdates"), "--depth-updates", RecordedData.File(Window, "depthSnapshot")),
            "option '--depth-snapshot': ", "this is not a depth snapshot file");
    }

    [Fact]
    public async Task A_book_that_is_not_a_book_ticker_is_refused_also_beside_depth_files()
    {
        // With depth files the --book file was never read: a trades file given as --book passed silently.
        var trades = RecordedData.File(Window, "trades");

        AssertRefused(await BacktestAsync(trades, trades, "--depth-snapshot", RecordedData.File(Window, "depthSnapshot"), "--depth-updates", RecordedData.File(Window, "depthUpdates")),
            "option '--book': ", "this is not a bookTicker file (its header is 'id,price,qty");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_book_of_another_time_than_the_other_files_is_refused(bool depth)
    {
        // The 2023 recording's quotes against the 2024 trades (and depth): prices of another day, filled at will.
        var book = RecordedData.File("BTCUSDT-UM-20230404T2358Z", "bookTicker");
        string[] more = depth ? ["--depth-snapshot", RecordedData.File(Window, "depthSnapshot"), "--depth-updates", RecordedData.File(Window, "depthUpdates")] : [];

        AssertRefused(await BacktestAsync(book, null, more), "option '--book': ", "its quotes (2023-04-04 23:58:20.430Z to 2023-04-05 00:06:54.645Z) do not overlap the trades");
    }

    [Theory]
    [InlineData("2024-07-18T23:00:00Z", "2024-07-18 23:00:00.000Z is outside the data, which holds the book from 2024-07-18 23:57:02.507Z to 2024-07-19 00:05:02.290Z")]
    [InlineData("1721347502291", "2024-07-19 00:05:02.291Z is outside the data")]
    public async Task A_start_outside_the_data_is_refused_naming_start(string start, string expected)
    {
        // Before the data the order started at the first quote; after it, the message did not name the option.
        AssertRefused(await BacktestAsync(RecordedData.File(Window, "bookTicker"), null, "--start", start), "option '--start': " + expected);
    }

    [Fact]
    public async Task Data_named_for_another_symbol_is_refused()
    {
        var outcome = await RunAsync(null,
            "backtest", "--symbol", "ETHUSDT", "--side", "buy", "--notional", "1000",
            "--book", RecordedData.File(Window, "bookTicker"), "--trades", RecordedData.File(Window, "trades"));

        AssertRefused(outcome, "option '--book': BTCUSDT-UM-20240718T2357Z-bookTicker.csv.gz is BTCUSDT data but '--symbol' is ETHUSDT");
    }

    [Fact]
    public async Task A_headerless_agg_trades_dump_is_read_as_agg_trades()
    {
        // Binance's older aggTrades dumps have no header: seven columns tell them from raw trades (six).
        var aggTrades = TradeLines().Skip(1).Select(l => l.Split(','))
            .Select(t => string.Join(',', t[0], t[1], t[2], t[0], t[0], t[4], t[5]));
        var trades = WriteText("BTCUSDT-aggTrades-headerless.csv", string.Join('\n', aggTrades) + "\n");
        string[] order = ["backtest", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "15000", "--book", RecordedData.File(Window, "bookTicker"), "--json"];

        var fromAgg = await RunAsync(null, [.. order, "--trades", trades]);
        var fromRaw = await RunAsync(null, [.. order, "--trades", RecordedData.File(Window, "trades")]);

        Assert.True(fromAgg.ExitCode == 0, $"exit {fromAgg.ExitCode}: {fromAgg.Error}");
        using var agg = JsonDocument.Parse(fromAgg.Output);
        using var raw = JsonDocument.Parse(fromRaw.Output);
        Assert.Equal(raw.RootElement[0].GetProperty("filled_qty").GetDecimal(), agg.RootElement[0].GetProperty("filled_qty").GetDecimal());
        Assert.Equal(raw.RootElement[0].GetProperty("fills").GetArrayLength(), agg.RootElement[0].GetProperty("fills").GetArrayLength());
    }

    [Fact]
    public async Task The_simulator_refuses_a_swapped_replay_file_before_it_starts()
    {
        var trades = RecordedData.File(Window, "trades");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(20));
        var outcome = await CliRunner.RunAsync(null, limit.Token, "sim", "--port", "0", "--source", "replay", "--symbols", "BTCUSDT", "--book", trades, "--trades", trades);

        AssertRefused(outcome, "chaser sim: ", "this is not a bookTicker file");
    }

    // ---- report outputs ----

    [Theory]
    [InlineData("--csv", "/proc/chaser-report.csv", "option '--csv': cannot write the file /proc/chaser-report.csv")]
    [InlineData("--parquet", "{dir}/missing/report.parquet", "option '--parquet': cannot write the file {dir}/missing/report.parquet")]
    [InlineData("--charts", "/proc/chaser-charts", "option '--charts': cannot write the charts directory /proc/chaser-charts")]
    [InlineData("--charts", "{dir}/a-file", "option '--charts': cannot write the charts directory {dir}/a-file")]
    public async Task A_report_output_the_file_system_refuses_is_named(string option, string path, string expected)
    {
        File.WriteAllText(Path.Combine(_directory, "a-file"), "not a directory");
        var outcome = await RunAsync(null, "report", option, path.Replace("{dir}", _directory, StringComparison.Ordinal));

        AssertRefused(outcome, expected.Replace("{dir}", _directory, StringComparison.Ordinal));
    }

    // ---- the database ----

    [Fact]
    public async Task An_unreadable_connection_string_is_named()
    {
        var outcome = await RunAsync(null, "report", "--db", "Data Source=x.db;Colour=blue");

        AssertRefused(outcome, "option '--db': cannot open SQLite (an unreadable connection string): ", "'colour' is not supported");
    }

    [Fact]
    public async Task A_read_only_database_is_refused_before_an_order_is_stored()
    {
        var database = await MigratedDatabaseAsync();

        var outcome = await RunAsync(null, "demo", "--db", database + ";Mode=ReadOnly");

        AssertRefused(outcome, "option '--db': cannot write to SQLite ", "readonly database");
    }

    [Fact]
    public async Task A_read_only_database_is_refused_by_serve_while_its_simulator_was_starting()
    {
        // serve starts the in-process simulator beside the database's checks: the refusal stops it and is the one reported.
        var database = await MigratedDatabaseAsync();

        var outcome = await RunAsync(null, "serve", "--urls", "http://127.0.0.1:0", "--db", database + ";Mode=ReadOnly");

        AssertRefused(outcome, "option '--db': cannot write to SQLite ", "readonly database");
    }

    [Fact]
    public async Task A_postgres_url_that_does_not_parse_is_refused_as_the_db_option()
    {
        var outcome = await RunAsync(null, "serve", "--urls", "http://127.0.0.1:0", "--db", "postgres://[bad");

        AssertRefused(outcome, "option '--db': cannot open PostgreSQL", "not a valid one");
    }

    [Fact]
    public async Task A_database_locked_by_another_writer_is_named()
    {
        var database = await MigratedDatabaseAsync();
        await using var holder = new SqliteConnection(database);
        await holder.OpenAsync(TestContext.Current.CancellationToken);
        await using (var exclusive = holder.CreateCommand())
        {
            exclusive.CommandText = "BEGIN EXCLUSIVE";
            await exclusive.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        // One second of busy waiting instead of the default thirty.
        var outcome = await RunAsync(null, "demo", "--db", database + ";Default Timeout=1");

        AssertRefused(outcome, "option '--db': ", "database is locked");
    }

    [Fact]
    public async Task A_database_with_a_damaged_page_gets_nothing_written()
    {
        var (database, file) = await DamagedDatabaseAsync("mids");
        var before = File.ReadAllBytes(file);

        var outcome = await RunAsync(null, "demo", "--db", database);

        AssertRefused(outcome, "option '--db': SQLite ", " is damaged (", "nothing was written to it");
        SqliteConnection.ClearAllPools();
        Assert.Equal(before, File.ReadAllBytes(file));
        Assert.True(!File.Exists(file + "-wal") || new FileInfo(file + "-wal").Length == 0, "rows went to the write-ahead log");
    }

    [Fact]
    public async Task A_damaged_page_met_while_reading_names_the_database()
    {
        var (database, file) = await DamagedDatabaseAsync("orders");

        var outcome = await RunAsync(null, "report", "--db", database);

        AssertRefused(outcome, $"option '--db': SQLite {file}: ", "malformed");
    }

    // ---- keys and addresses ----

    [Theory]
    [InlineData("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----", "not a usable Ed25519 key")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END PRIVATE KEY-----", "not a readable PKCS#8 Ed25519 private key")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----", "not a usable Ed25519 key")]
    public async Task A_bad_pem_secret_names_the_variable_and_never_shows_the_key(string secret, string expected)
    {
        var outcome = await RunAsync(
            new Dictionary<string, string> { ["CHASER_BINANCE_API_KEY"] = "key", ["CHASER_BINANCE_API_SECRET"] = secret },
            "execute", "--venue", "testnet", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "500");

        AssertRefused(outcome, "the environment variable CHASER_BINANCE_API_SECRET holds a PEM block that is ", expected);
        Assert.DoesNotContain("MIIBOgIBAAJB", outcome.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notaurl")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("http://127.0.0.1:99999")]
    public async Task A_bad_urls_value_is_refused_before_anything_starts(string urls)
    {
        var outcome = await RunAsync(null, "serve", "--urls", urls);

        AssertRefused(outcome, $"option '--urls' must be addresses like http://127.0.0.1:5080 (';' between several), got '{urls}'");
    }

    [Fact]
    public async Task Serving_on_a_port_in_use_names_the_address()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var outcome = await RunAsync(null, "serve", "--urls", $"http://127.0.0.1:{port}");

        AssertRefused(outcome, $"option '--urls': cannot listen on http://127.0.0.1:{port}: ", "address already in use");
    }

    [Fact]
    public async Task The_simulator_on_a_port_in_use_names_the_port()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var outcome = await RunAsync(null, "sim", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        AssertRefused(outcome, $"chaser sim: option '--port': cannot listen on 127.0.0.1:{port}: ", "address already in use");
        Assert.Equal("", outcome.Output);
    }

    // ---- logging ----

    [Fact]
    public async Task A_refused_input_is_logged_with_its_reason()
    {
        var log = Path.Combine(_directory, "logs", "chaser.log");
        var book = WriteText("empty.csv", "");

        var outcome = await RunAsync(new Dictionary<string, string> { ["CHASER_LOG"] = log }, BacktestArguments(book, RecordedData.File(Window, "trades")));

        AssertRefused(outcome, "the file is empty");
        var logged = Assert.Single(File.ReadAllLines(log));
        Assert.EndsWith(outcome.Error.Trim(), logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bug_is_one_line_on_stderr_with_its_trace_in_the_log()
    {
        var log = Path.Combine(_directory, "chaser.log");
        var error = new StringWriter();
        var context = new CommandContext(new RefusingWriter(), error, Interactive: false, name => name == "CHASER_LOG" ? log : null, TimeProvider.System, TestContext.Current.CancellationToken);

        var code = await CommandLine.RunAsync(["help"], context);

        Assert.Equal(1, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("chaser help: internal error: NotSupportedException: this writer refuses output", line, StringComparison.Ordinal);
        Assert.Contains($"(details in {log})", line, StringComparison.Ordinal);
        Assert.Contains("   at ", File.ReadAllText(log), StringComparison.Ordinal);
    }

    /// <summary>Stands for a defect: a stream that throws what no command expects.</summary>
    private sealed class RefusingWriter : StringWriter
    {
        public override Task WriteLineAsync(string? value) => throw new NotSupportedException("this writer refuses output");
    }

    private static void AssertRefused(CliRunner.Outcome outcome, params string[] expected)
    {
        var lines = outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(outcome.ExitCode == 2, $"exit {outcome.ExitCode}; stderr: {outcome.Error}");
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + outcome.Error);
        foreach (var fragment in expected)
        {
            Assert.Contains(fragment, lines[0], StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at ", outcome.Error, StringComparison.Ordinal);
    }

    /// <summary>Runs the command line; a run that hangs (a writer retrying behind a damaged database) fails the test.</summary>
    private static async Task<CliRunner.Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        await CliRunner.RunAsync(environment, args).WaitAsync(RunLimit, TestContext.Current.CancellationToken);

    private static Task<CliRunner.Outcome> BacktestAsync(string book, string? trades = null, params string[] more) =>
        RunAsync(null, [.. BacktestArguments(book, trades ?? RecordedData.File(Window, "trades")), .. more]);

    // A sell far larger than the recording can fill, so the replay reads every row it is given.
    private static string[] BacktestArguments(string book, string trades) =>
        ["backtest", "--symbol", "BTCUSDT", "--side", "sell", "--notional", "1500000", "--book", book, "--trades", trades];

    private static IEnumerable<string> BookLines()
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(RecordedData.File(Window, "bookTicker")), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static IEnumerable<string> TradeLines()
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(RecordedData.File(Window, "trades")), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private string WriteText(string name, string content) => Write(name, Encoding.UTF8.GetBytes(content));

    private async Task<string> MigratedDatabaseAsync()
    {
        var database = "Data Source=" + Path.Combine(_directory, $"chaser-{Guid.NewGuid():N}.db");
        var migrate = await RunAsync(null, "db", "migrate", "--db", database);
        Assert.True(migrate.ExitCode == 0, migrate.Error);
        return database;
    }

    /// <summary>A migrated database whose <paramref name="table"/>'s root page is overwritten with noise, checkpointed first.</summary>
    private async Task<(string Database, string File)> DamagedDatabaseAsync(string table)
    {
        var database = await MigratedDatabaseAsync();
        var file = new SqliteConnectionStringBuilder(database).DataSource;
        long page, pageSize;
        await using (var connection = new SqliteConnection(database))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            command.CommandText = "PRAGMA page_size";
            pageSize = (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            command.CommandText = $"SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = '{table}'";
            page = (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }

        SqliteConnection.ClearAllPools();
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            stream.Position = (page - 1) * pageSize;
            await stream.WriteAsync(Enumerable.Range(0, (int)pageSize).Select(i => (byte)(i * 31 + 7)).ToArray(), TestContext.Current.CancellationToken);
        }

        return (database, file);
    }
}

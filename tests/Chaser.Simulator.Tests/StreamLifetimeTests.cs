using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Tests;

/// <summary>
/// Binance's connection limits on the market/user streams (binance-futures-api.md §6): a connection lives at most
/// ConnectionLifetime (24 h), the server pings every PingInterval (3 min) and drops a connection whose pong is not
/// back within PongTimeout (10 min). Tested on short option values over real loopback sockets.
/// </summary>
public sealed class StreamLifetimeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_connection_is_closed_by_the_server_when_its_lifetime_ends()
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { ConnectionLifetime = TimeSpan.FromSeconds(1) });
        var opened = Stopwatch.StartNew();
        using var ws = await sim.ConnectAsync("/public/ws/btcusdt@bookTicker");

        sim.Engine.ApplyLevels(SimulatorFixture.Btc, [new LevelChange(BookSide.Bid, 64999.9m, 6m)]);
        Assert.Equal("bookTicker", (await ws.ReceiveJsonAsync()).GetProperty("e").GetString());

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(5000);
        var result = await ws.ReceiveAsync(new byte[256], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        Assert.True(opened.Elapsed >= TimeSpan.FromSeconds(0.9), $"closed after {opened.Elapsed}, before its lifetime");
    }

    [Fact]
    public async Task A_connection_lives_on_while_its_lifetime_lasts()
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { ConnectionLifetime = TimeSpan.FromSeconds(30) });
        using var ws = await sim.ConnectAsync("/market/ws");

        await Task.Delay(1500, Ct);
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":1}""");
        Assert.Equal("""{"result":[],"id":1}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(50 * 24 * 3600)]
    public async Task A_lifetime_out_of_bounds_is_refused_naming_the_option(int seconds)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SimulatorFixture.StartAsync(o => o with { ConnectionLifetime = TimeSpan.FromSeconds(seconds) }));
        Assert.Contains("ConnectionLifetime", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_sends_no_pong_is_dropped_after_the_pong_timeout_whatever_else_it_sends(bool sendsMessages)
    {
        // Binance: only a pong frame keeps the connection, other messages do not
        await using var sim = await SimulatorFixture.StartAsync(o => o with { PingInterval = TimeSpan.FromMilliseconds(200), PongTimeout = TimeSpan.FromSeconds(1) });
        using var client = await RawWebSocket.ConnectAsync(sim.Server.WebSocketBaseUrl, "/public/ws");
        using var chatter = new CancellationTokenSource();
        var messages = sendsMessages ? client.RepeatAsync(RawWebSocket.Text, """{"method":"LIST_SUBSCRIPTIONS","id":1}""", TimeSpan.FromMilliseconds(250), chatter.Token) : Task.CompletedTask;

        var started = Stopwatch.StartNew();
        TimeSpan? firstPing = null;
        while (await client.ReadFrameAsync(TimeSpan.FromSeconds(10)) is { } frame)
        {
            if (frame.Opcode == RawWebSocket.Ping)
            {
                firstPing ??= started.Elapsed;
            }
        }

        var dropped = started.Elapsed;
        await chatter.CancelAsync();
        await messages;
        Assert.NotNull(firstPing);
        Assert.True(firstPing < TimeSpan.FromSeconds(2), $"first ping after {firstPing}, ping interval 200 ms");
        Assert.True(dropped - firstPing >= TimeSpan.FromSeconds(0.9), $"dropped {dropped - firstPing} after the first unanswered ping, before the 1 s pong timeout");
        Assert.True(dropped < TimeSpan.FromSeconds(8), $"still open after {dropped}");
    }

    [Theory]
    [InlineData(RawWebSocket.Ping)]
    [InlineData(RawWebSocket.Pong)]
    public async Task Ping_and_pong_frames_count_in_the_ten_messages_a_second(int opcode)
    {
        // Binance's USDⓈ-M page: "a PING frame, a PONG frame, a JSON controlled message" each count. Nine frames and
        // one SUBSCRIBE are ten; the eleventh frame in the same second closes the connection.
        await using var sim = await SimulatorFixture.StartAsync();
        using var client = await RawWebSocket.ConnectAsync(sim.Server.WebSocketBaseUrl, "/public/ws");
        for (var i = 0; i < 9; i++)
        {
            await client.SendAsync(opcode, []);
        }

        await client.SendAsync(RawWebSocket.Text, Encoding.UTF8.GetBytes("""{"method":"LIST_SUBSCRIPTIONS","id":1}"""));
        Assert.Equal("""{"result":[],"id":1}""", Encoding.UTF8.GetString((await NextDataFrameAsync(client))!.Payload));

        await client.SendAsync(opcode, []);
        Assert.Null(await NextDataFrameAsync(client));
    }

    [Fact]
    public async Task A_client_that_never_reads_is_dropped_once_its_backlog_passes_the_byte_bound()
    {
        // 20,000 depth frames of ~2.4 KB (~48 MB): under the frame-count bound, so only a bound on queued bytes drops
        // this client before its backlog holds them all in the server's memory
        await using var sim = await SimulatorFixture.StartAsync();
        using var client = await RawWebSocket.ConnectAsync(sim.Server.WebSocketBaseUrl, "/public/ws/btcusdt@depth@0ms");
        var levels = new LevelChange[100];
        for (var round = 0; round < 20_000; round++)
        {
            for (var i = 0; i < levels.Length; i++)
            {
                levels[i] = new LevelChange(BookSide.Bid, 60000.0m + (i * 0.1m), 1m + (round % 7) + (i * 0.001m));
            }

            sim.Engine.ApplyLevels(SimulatorFixture.Btc, levels);
        }

        // now read: what the kernel's buffers hold arrives, then the end of a dropped connection
        long received = 0;
        var open = false;
        try
        {
            while (await client.ReadFrameAsync(TimeSpan.FromSeconds(3)) is { } frame)
            {
                received += frame.Payload.Length;
            }
        }
        catch (OperationCanceledException)
        {
            open = true; // nothing more within 3 s and the connection still up: everything was queued and sent
        }

        Assert.False(open, $"a client that read nothing while ~48 MB were published is still connected ({received} bytes delivered)");
        Assert.True(received < 40_000_000, $"{received} bytes delivered");
    }

    /// <summary>The next frame that is no pong (the server answers each of the client's pings), null once closed.</summary>
    private static async Task<RawWebSocket.Frame?> NextDataFrameAsync(RawWebSocket client)
    {
        while (await client.ReadFrameAsync(TimeSpan.FromSeconds(3)) is { } frame)
        {
            if (frame.Opcode != RawWebSocket.Pong)
            {
                return frame;
            }
        }

        return null;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_client_that_answers_pings_or_sends_unsolicited_pongs_stays_connected(bool echoesPings)
    {
        // Binance's USDⓈ-M page: unsolicited pong frames are allowed and maintain the connection
        await using var sim = await SimulatorFixture.StartAsync(o => o with { PingInterval = TimeSpan.FromMilliseconds(200), PongTimeout = TimeSpan.FromMilliseconds(600) });
        using var client = await RawWebSocket.ConnectAsync(sim.Server.WebSocketBaseUrl, "/public/ws");
        using var pongs = new CancellationTokenSource();
        // every 200 ms: within the pong timeout, and within the 10 messages a second that pongs count in
        var unsolicited = echoesPings ? Task.CompletedTask : client.RepeatAsync(RawWebSocket.Pong, string.Empty, TimeSpan.FromMilliseconds(200), pongs.Token);

        var until = Stopwatch.StartNew();
        var pings = 0;
        while (until.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            RawWebSocket.Frame? frame;
            try
            {
                frame = await client.ReadFrameAsync(TimeSpan.FromSeconds(2));
            }
            catch (OperationCanceledException)
            {
                // .NET's own keep-alive pings only after a quiet interval, which the pongs coming in keep restarting
                Assert.Fail($"no ping for 2 s at a 200 ms interval, after {pings}: the server must ping whatever the traffic");
                return;
            }

            Assert.True(frame is not null, "the server dropped a client that kept sending pongs");
            if (frame.Opcode == RawWebSocket.Ping)
            {
                pings++;
                if (echoesPings)
                {
                    await client.SendAsync(RawWebSocket.Pong, frame.Payload);
                }
            }
        }

        // the server pings on its schedule even while pongs keep coming
        Assert.True(pings >= 5, $"{pings} pings in 2.5 s at a 200 ms interval");
        await client.SendAsync(RawWebSocket.Text, Encoding.UTF8.GetBytes("""{"method":"LIST_SUBSCRIPTIONS","id":9}"""));
        while (await client.ReadFrameAsync(TimeSpan.FromSeconds(5)) is { } frame)
        {
            if (frame.Opcode == RawWebSocket.Ping)
            {
                await client.SendAsync(RawWebSocket.Pong, frame.Payload);
                continue;
            }

            Assert.Equal("""{"result":[],"id":9}""", Encoding.UTF8.GetString(frame.Payload));
            await pongs.CancelAsync();
            await unsolicited;
            return;
        }

        Assert.Fail("no answer to LIST_SUBSCRIPTIONS");
    }

    [Fact]
    public async Task A_ping_or_pong_interval_of_zero_is_refused_naming_the_option()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SimulatorFixture.StartAsync(o => o with { PingInterval = TimeSpan.Zero }));
        Assert.Contains("PingInterval", error.Message, StringComparison.Ordinal);
        error = await Assert.ThrowsAsync<ArgumentException>(() => SimulatorFixture.StartAsync(o => o with { PongTimeout = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("PongTimeout", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A WebSocket client at the frame level, so a test decides whether pings are answered (ClientWebSocket always
    /// answers them while a receive is pending).
    /// </summary>
    private sealed class RawWebSocket : IDisposable
    {
        public const int Text = 0x1;
        public const int Ping = 0x9;
        public const int Pong = 0xA;

        private readonly TcpClient tcp;
        private readonly NetworkStream stream;
        private readonly SemaphoreSlim sending = new(1, 1);

        private RawWebSocket(TcpClient tcp)
        {
            this.tcp = tcp;
            stream = tcp.GetStream();
        }

        public sealed record Frame(int Opcode, byte[] Payload);

        public static async Task<RawWebSocket> ConnectAsync(Uri baseUrl, string path)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port, Ct);
            var socket = new RawWebSocket(tcp);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {path} HTTP/1.1\r\nHost: {baseUrl.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await socket.stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                Assert.Equal(1, await socket.stream.ReadAsync(one, Ct));
                head.Append((char)one[0]);
            }

            Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
            return socket;
        }

        /// <summary>The next frame, or null once the server has closed or dropped the connection.</summary>
        public async Task<Frame?> ReadFrameAsync(TimeSpan timeout)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(timeout);
            try
            {
                var header = await ReadExactlyAsync(2, cts.Token);
                if (header is null)
                {
                    return null;
                }

                var opcode = header[0] & 0x0F;
                long length = header[1] & 0x7F;
                if (length == 126)
                {
                    length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2, cts.Token) ?? throw new IOException("closed mid-frame"));
                }
                else if (length == 127)
                {
                    length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, cts.Token) ?? throw new IOException("closed mid-frame"));
                }

                var payload = length == 0 ? [] : await ReadExactlyAsync((int)length, cts.Token);
                return opcode == 0x8 || payload is null ? null : new Frame(opcode, payload);
            }
            catch (IOException)
            {
                return null;
            }
        }

        private async Task<byte[]?> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var buffer = new byte[count];
            var read = 0;
            while (read < count)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), ct);
                if (n == 0)
                {
                    return null;
                }

                read += n;
            }

            return buffer;
        }

        /// <summary>One masked frame, as a client must send (payloads here are under 126 bytes).</summary>
        public async Task SendAsync(int opcode, byte[] payload)
        {
            var mask = RandomNumberGenerator.GetBytes(4);
            var frame = new byte[2 + 4 + payload.Length];
            frame[0] = (byte)(0x80 | opcode);
            frame[1] = (byte)(0x80 | payload.Length);
            mask.CopyTo(frame, 2);
            for (var i = 0; i < payload.Length; i++)
            {
                frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
            }

            await sending.WaitAsync(Ct);
            try
            {
                await stream.WriteAsync(frame, Ct);
            }
            finally
            {
                sending.Release();
            }
        }

        /// <summary>Sends the same frame every <paramref name="every"/> until stopped or the server drops the connection.</summary>
        public async Task RepeatAsync(int opcode, string text, TimeSpan every, CancellationToken ct)
        {
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    await SendAsync(opcode, Encoding.UTF8.GetBytes(text));
                    await Task.Delay(every, ct);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // stopped, or the server dropped the connection
            }
        }

        public void Dispose()
        {
            sending.Dispose();
            stream.Dispose();
            tcp.Dispose();
        }
    }
}

using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;

namespace Chaser.Simulator;

/// <summary>
/// The `chaser sim` command's run (its options are parsed by the command line): starts the simulator, prints the base
/// URLs and runs until cancelled. Returns 0 on a clean stop, 2 when the server cannot start (port in use, bad replay file).
/// </summary>
public static class SimulatorCommand
{
    /// <summary>Runs until <paramref name="ct"/> is cancelled; a port in use or a bad replay file is one line on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(SimulatorOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        SimulatorServer server;
        try
        {
            server = await SimulatorServer.StartAsync(options, ct);
        }
        catch (RecordedDataException ex)
        {
            await error.WriteLineAsync("chaser sim: " + ex.Message);
            return 2;
        }
        catch (FileNotFoundException ex)
        {
            await error.WriteLineAsync("chaser sim: " + ex.Message);
            return 2;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            // Kestrel reports a port in use as an IOException naming the address.
            await error.WriteLineAsync($"chaser sim: option '--port': cannot listen on {options.Host}:{options.Port}: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            await error.WriteLineAsync("chaser sim: the simulator could not start: " + ex.Message);
            return 2;
        }

        await using (server)
        {
            await output.WriteLineAsync("Chaser simulator — Binance USDⓈ-M Futures on loopback");
            await output.WriteLineAsync($"  REST:          {SimulatorServer.BaseText(server.RestBaseUrl)}");
            foreach (var line in WebSocketLines(server))
            {
                await output.WriteLineAsync(line);
            }

            await output.WriteLineAsync($"  WebSocket API: {server.WebSocketApiUrl}");
            await output.WriteLineAsync($"  API key:       {server.ApiKey}");
            // The documented example secret is public and worth showing; a secret the user chose is never printed.
            await output.WriteLineAsync(server.ApiSecret == SimulatorOptions.DefaultApiSecret
                ? $"  API secret:    {server.ApiSecret}  (Binance's documented example)"
                : "  API secret:    (as given by --api-secret / CHASER_SIM_API_SECRET, not shown)");
            foreach (var ed25519Key in server.Options.Ed25519PublicKeys.Keys)
            {
                await output.WriteLineAsync($"  Ed25519 key:   {ed25519Key}");
            }

            await output.WriteLineAsync($"  Symbols:       {string.Join(",", server.Engine.Symbols.Select(s => s.Symbol))}");
            await output.WriteLineAsync($"  Market:        {server.SourceDescription}");
            await output.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or the host stopping: shut down cleanly.
            }
        }

        await output.WriteLineAsync("simulator stopped");
        return 0;
    }

    /// <summary>
    /// The stream base and its routed forms (binance-futures-api.md §6, §7), each line at most 80 columns: streams
    /// flow only on their route, so a client must know which route serves which stream.
    /// </summary>
    private static IEnumerable<string> WebSocketLines(SimulatorServer server)
    {
        yield return $"  WebSocket:     {SimulatorServer.BaseText(server.WebSocketBaseUrl)}  (streams only on their routes)";
        yield return "    /public/ws/<stream>, /public/stream?streams=a/b   bookTicker, depth, trade";
        yield return "    /market/ws/<stream>, /market/stream?streams=a/b   aggTrade, markPrice";
        yield return "    /private/ws/<listenKey>, /private/stream?listenKey=<key>&events=A/B";
        if (server.Options.LegacyStreams)
        {
            yield return "    /ws/<stream>, /stream?streams=a/b   every stream (--legacy-streams)";
        }
    }
}

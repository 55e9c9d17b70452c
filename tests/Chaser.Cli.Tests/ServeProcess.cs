using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Chaser.Cli.Tests;

/// <summary>The real `chaser serve` binary as a child process, for tests that kill it or drive it from a browser.</summary>
internal static class ServeProcess
{
    /// <summary>Starts `chaser serve` with the API token in CHASER_API_TOKEN and returns once it serves.</summary>
    public static async Task<Process> StartAsync(string token, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "chaser.dll"));
        start.ArgumentList.Add("serve");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CHASER_API_TOKEN"] = token;
        var process = Process.Start(start) ?? throw new InvalidOperationException("chaser serve did not start");
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("chaser serve:", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
        }
        catch (TimeoutException)
        {
            process.Kill();
            lock (output)
            {
                throw new TimeoutException("chaser serve did not come up:\n" + output);
            }
        }

        return process;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

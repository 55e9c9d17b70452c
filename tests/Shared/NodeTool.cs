using System.Diagnostics;

namespace Chaser.Tests.Shared;

/// <summary>
/// A Node.js tool under <c>tools/</c> (the ccxt check, the dashboard's browser check): found from the test's output
/// directory, its npm packages installed on first use (<c>npm ci</c>), and run with a time limit.
/// </summary>
internal static class NodeTool
{
    public static string Directory(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tools", name);
            if (File.Exists(Path.Combine(candidate, "check.mjs")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"tools/{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs <c>npm ci</c> unless <paramref name="package"/> is already installed; fails the test if it can't.</summary>
    public static async Task InstallAsync(string directory, string package, CancellationToken ct)
    {
        if (!System.IO.Directory.Exists(Path.Combine(directory, "node_modules", package)))
        {
            var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], directory, TimeSpan.FromMinutes(3), ct);
            Assert.True(install.ExitCode == 0, "npm ci failed:\n" + install.Output);
        }
    }

    /// <summary>Runs a program to its end (killed after <paramref name="timeout"/>); the output is stdout, then stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string directory, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}

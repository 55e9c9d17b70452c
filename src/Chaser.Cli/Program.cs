using Chaser.Cli;

// First Ctrl-C: a graceful stop (live child orders are canceled and their final state awaited). Second: exit now.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (!stop.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("chaser: stopping (canceling live orders); Ctrl-C again to exit at once");
        stop.Cancel();
    }
};

// SIGTERM (kill, a service manager) stops as gracefully as the first Ctrl-C; a second one ends the process at once.
using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, signal =>
{
    if (!stop.IsCancellationRequested)
    {
        signal.Cancel = true;
        stop.Cancel();
    }
});

var context = new CommandContext(
    Console.Out,
    Console.Error,
    Interactive: !Console.IsOutputRedirected,
    Environment.GetEnvironmentVariable,
    TimeProvider.System,
    stop.Token);
return await CommandLine.RunAsync(args, context);

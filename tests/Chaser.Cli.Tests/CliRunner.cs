namespace Chaser.Cli.Tests;

/// <summary>Runs the <c>chaser</c> command line in-process with captured output and a given environment.</summary>
internal static class CliRunner
{
    public sealed record Outcome(int ExitCode, string Output, string Error);

    public static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CommandContext(
            TextWriter.Synchronized(output),
            TextWriter.Synchronized(error),
            Interactive: false,
            name => environment?.GetValueOrDefault(name),
            TimeProvider.System,
            TestContext.Current.CancellationToken);
        var code = await CommandLine.RunAsync(args, context);
        return new Outcome(code, output.ToString(), error.ToString());
    }
}

namespace Chaser.Cli.Tests;

/// <summary>Runs the <c>chaser</c> command line in-process with captured output and a given environment.</summary>
internal static class CliRunner
{
    public sealed record Outcome(int ExitCode, string Output, string Error, string Database);

    /// <summary>Runs with a fresh SQLite database per call (CHASER_DB), so tests never touch a chaser.db of their own directory.</summary>
    public static Task<Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunAsync(environment, TestContext.Current.CancellationToken, args);

    /// <summary>As above, with <paramref name="stop"/> standing for Ctrl-C.</summary>
    public static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, CancellationToken stop, params string[] args)
    {
        var database = Path.Combine(Path.GetTempPath(), $"chaser-cli-test-{Guid.NewGuid():N}.db");
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["CHASER_DB"] = "Data Source=" + database };
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CommandContext(
            TextWriter.Synchronized(output),
            TextWriter.Synchronized(error),
            Interactive: false,
            name => variables.GetValueOrDefault(name),
            TimeProvider.System,
            stop);
        var code = await CommandLine.RunAsync(args, context);
        return new Outcome(code, output.ToString(), error.ToString(), "Data Source=" + database);
    }
}

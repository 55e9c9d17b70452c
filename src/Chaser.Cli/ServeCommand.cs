using System.CommandLine;
using System.Security.Cryptography;
using Chaser.Api;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chaser.Cli;

/// <summary><c>chaser serve</c>: the HTTP API over a database and a venue.</summary>
internal static class ServeCommand
{
    private static readonly Option<string> Urls = CliOption.Text(
        "--urls", "URLS", "the addresses to listen on (';' between several); 127.0.0.1 unless this says otherwise", "http://127.0.0.1:5080");

    private static readonly Option<string?> Database = CliOption.Database("the database the API reads and records in");
    private static readonly VenueOptions VenueChoice = new();
    private static readonly Option<int> Seed = CliOption.Seed();

    public static readonly Command Definition = Define();

    public const string Notes = """
          The dashboard is at / (live orders, charts, fills, aggregates). Every API request needs Authorization: Bearer
          <token>. The token is CHASER_API_TOKEN, or, when that is unset, one generated at start and printed once (only
          its hash is kept).
        """;

    private static Command Define()
    {
        var command = new Command("serve", "the HTTP API (orders, execute, fills, mids, report) and the dashboard over the database and a venue");
        foreach (var option in new Option[] { Urls, Database }.Concat(VenueChoice.All).Append(Seed))
        {
            command.Add(option);
        }

        return command;
    }

    public const string TokenVariable = "CHASER_API_TOKEN";

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var urls = CheckedUrls(args.GetValue(Urls)!);
        var database = Recording.ConnectionString(args.GetValue(Database), context.Environment);
        var venueSettings = VenueSettings.From(VenueChoice, args);
        var simulatorOptions = new SimulatorOptions { Seed = args.GetValue(Seed) };
        var simulatorStarting = Venue.StartSimulatorEarly(venueSettings, simulatorOptions, context.Stop);
        string clientIdTag;
        try
        {
            await Recording.MigrateAsync(database, context.Stop).ConfigureAwait(false);
            await Recording.EnsureWritableAsync(database, context.Stop).ConfigureAwait(false);
            clientIdTag = await Recording.ClientIdTagAsync(database, context.Stop).ConfigureAwait(false);
        }
        catch
        {
            await Venue.AbandonAsync(simulatorStarting).ConfigureAwait(false);
            throw;
        }

        // Everything up to listening runs on plain connections; the API's reads use EF Core, whose first use (a few
        // hundred ms) is paid here, on the other core, while the simulator starts and the engine connects.
        var efWarm = Task.Run(() => ChaserDb.WarmUpAsync(database, context.Stop), context.Stop);

        var token = context.Environment(TokenVariable);
        var generated = string.IsNullOrWhiteSpace(token);
        if (generated)
        {
            token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        await using var recorder = new StorageRecorder(database, context.Diagnostic);
        await using var venue = await Venue.OpenAsync(venueSettings, simulatorOptions, context.Environment, context.Diagnostic, recorder, clientIdTag, context.Stop, simulatorStarting).ConfigureAwait(false);

        // Orders a crash left working are reconciled with the exchange before anything new is accepted.
        var recovery = await RestartRecovery.RecoverAsync(new OrderStore(database), recorder, venue.Connector, venue.Connector, venue.Engine.Options.Venue, venue.Engine.Options.Account, context.Diagnostic, cancellationToken: context.Stop).ConfigureAwait(false);
        if (recovery.Orders > 0)
        {
            await context.Output.WriteLineAsync($"recovered {recovery.Orders} order(s) left working: {recovery.OrphansCanceled} open child order(s) canceled, {recovery.FillsRestored} fill(s) reconciled").ConfigureAwait(false);
        }

        if (recovery.OtherVenues.Count > 0)
        {
            await context.Output.WriteLineAsync($"left alone {recovery.OtherVenues.Count} order(s) working on another venue or account (see the log); start chaser serve on that venue to reconcile them").ConfigureAwait(false);
        }

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.WebHost.UseUrls(urls);
        builder.AddChaserApi(new ApiOptions
        {
            Database = database,
            Engine = venue.Engine,
            TokenHash = ApiOptions.HashToken(token!),
            Diagnostics = context.Diagnostic,
        });
        await using var app = builder.Build();
        app.MapChaserApi();
        try
        {
            await app.StartAsync(context.Stop).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new UsageException($"option '--urls': cannot listen on {urls}: {e.Message}");
        }

        await context.Output.WriteLineAsync($"chaser serve: {string.Join(", ", app.Urls)} on {venue.Name}, recording in {Recording.Describe(database)}").ConfigureAwait(false);
        await context.Output.WriteLineAsync(generated
            ? $"API token (shown once, set {TokenVariable} to choose your own): {token}"
            : $"API token: from {TokenVariable}").ConfigureAwait(false);
        await context.Output.WriteLineAsync($"dashboard: {app.Urls.FirstOrDefault()?.TrimEnd('/') ?? urls}/ (paste the API token)").ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, context.Stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C / SIGTERM: stop taking requests, then cancel what is still working.
        }

        await efWarm.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        var left = await venue.Engine.StopAsync().ConfigureAwait(false);
        // Bounded, as execute's last flush: a database gone away must not hold the process (and the port) for good.
        await Recording.FinishAsync(recorder, database).ConfigureAwait(false);
        if (left.Count > 0)
        {
            await context.Output.WriteLineAsync($"stopped with order(s) {string.Join(", ", left)} not final; the next start reconciles them with the exchange").ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>The addresses to listen on (';'-separated), each checked as Kestrel will read it before anything starts.</summary>
    private static string CheckedUrls(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.TrimEntries))
        {
            try
            {
                var address = BindingAddress.Parse(url);
                if (address.Scheme is not ("http" or "https") || address.Port is < 0 or > 65535)
                {
                    throw new FormatException($"'{url}' is not http:// or https://");
                }
            }
            catch (FormatException)
            {
                throw new UsageException($"option '--urls' must be addresses like http://127.0.0.1:5080 (';' between several), got '{url}'");
            }
        }

        return urls;
    }

    /// <summary>The command, not the web host, owns Ctrl-C and SIGTERM.</summary>
    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

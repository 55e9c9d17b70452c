namespace Chaser.Cli;

/// <summary>Entry point of the <c>chaser</c> tool. Commands are added as their issues land.</summary>
public static class CommandLine
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var command = args.Length == 0 ? "help" : args[0];
        switch (command)
        {
            case "demo":
                output.WriteLine("chaser demo: the live demo (simulator + three parent orders) is not built yet.");
                output.WriteLine("It will start the embedded Binance Futures simulator, work buy 15,000 USDT of BTCUSDT,");
                output.WriteLine("sell 8,000 USDT of ETHUSDT and buy 0.5 ETH concurrently with post-only orders at the best");
                output.WriteLine("price, and print a post-trade table. Today Chaser has its core: exchange rules and the");
                output.WriteLine("chaser decision state machine (see `dotnet test`).");
                return 0;
            case "help" or "--help" or "-h":
                output.WriteLine("usage: chaser <command>");
                output.WriteLine("  demo     run the demo against the embedded simulator");
                return 0;
            default:
                error.WriteLine($"chaser: unknown command '{command}' (try 'chaser help')");
                return 2;
        }
    }
}

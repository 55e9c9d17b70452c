namespace Chaser.Tests.Shared;

/// <summary>
/// The real Binance recordings kept in the repository (<c>data/binance/um</c>), found from the test's output directory
/// by walking up to the repository root (the directory holding <c>Chaser.sln</c>), so a fresh clone finds its own copy.
/// </summary>
internal static class RecordedData
{
    public static string Directory { get; } = Find();

    /// <summary>One recorded file, e.g. <c>File("BTCUSDT-UM-20240718T2357Z", "trades")</c>.</summary>
    public static string File(string window, string kind) => Path.Combine(Directory, $"{window}-{kind}.csv.gz");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Chaser.sln")))
            {
                var data = Path.Combine(dir.FullName, "data", "binance", "um");
                return System.IO.Directory.Exists(data)
                    ? data
                    : throw new DirectoryNotFoundException($"the recorded Binance data is missing from the repository: {data}");
            }
        }

        throw new DirectoryNotFoundException($"the repository root (Chaser.sln) was not found above {AppContext.BaseDirectory}");
    }
}

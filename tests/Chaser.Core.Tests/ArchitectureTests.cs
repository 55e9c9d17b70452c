using System.Reflection;
using System.Xml.Linq;
using Chaser.Core.Chasing;

namespace Chaser.Core.Tests;

/// <summary>The core stays pure: it references nothing of ours and no I/O, networking or clock APIs; every dependency points inward.</summary>
public class ArchitectureTests
{
    private static readonly Assembly Core = typeof(ChaserStateMachine).Assembly;

    [Fact]
    public void The_core_references_only_the_base_class_library()
    {
        var references = Core.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.All(references, name => Assert.True(name == "System.Runtime" || name.StartsWith("System.", StringComparison.Ordinal), $"Chaser.Core references {name}"));
        Assert.DoesNotContain(references, name => name.StartsWith("Chaser.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("System.Net")]
    [InlineData("System.IO")]
    [InlineData("System.Data")]
    [InlineData("System.Threading.Tasks")]
    public void The_core_uses_no_io_or_async_types(string forbiddenNamespace)
    {
        var used = UsedTypes().Where(t => t.Namespace is { } ns && (ns == forbiddenNamespace || ns.StartsWith(forbiddenNamespace + ".", StringComparison.Ordinal)));
        Assert.Empty(used.Select(t => t.FullName).Distinct());
    }

    [Fact]
    public void The_core_reads_no_clock()
    {
        var clockReads = new[] { "get_Now", "get_UtcNow", "get_Today", "GetUtcNow", "GetTimestamp" };
        var offenders = Core.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetMethodBody() is not null)
            .Where(m => CalledMethods(m).Any(c => clockReads.Contains(c.Name) && c.DeclaringType is { } d && (d == typeof(DateTime) || d == typeof(DateTimeOffset) || d == typeof(TimeProvider) || d == typeof(System.Diagnostics.Stopwatch))))
            .Select(m => $"{m.DeclaringType}.{m.Name}")
            .ToArray();
        Assert.Empty(offenders);
    }

    /// <summary>
    /// Which of our projects each project may reference: dependencies point inward. The core references nothing of ours;
    /// the adapters (Binance, storage, the simulator's exchange) and the engine only the core; reporting reads stored
    /// rows; the backtester drives the engine over the simulator's matching; the hosts (CLI, API) may use anything.
    /// </summary>
    private static readonly Dictionary<string, string[]?> AllowedReferences = new(StringComparer.Ordinal)
    {
        ["Chaser.Core"] = [],
        ["Chaser.Binance"] = ["Chaser.Core"],
        ["Chaser.Storage"] = ["Chaser.Core"],
        ["Chaser.Simulator"] = ["Chaser.Core"],
        ["Chaser.Engine"] = ["Chaser.Core"],
        ["Chaser.Reporting"] = ["Chaser.Core", "Chaser.Storage"],
        ["Chaser.Backtesting"] = ["Chaser.Core", "Chaser.Engine", "Chaser.Simulator"],
        ["Chaser.Api"] = null,
        ["Chaser.Cli"] = null,
    };

    [Fact]
    public void Every_project_references_only_projects_further_in()
    {
        var projects = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "*.csproj", SearchOption.AllDirectories);
        Assert.NotEmpty(projects);
        var outward = new List<string>();
        foreach (var project in projects)
        {
            var name = Path.GetFileNameWithoutExtension(project);
            Assert.True(AllowedReferences.TryGetValue(name, out var allowed), $"{name} is a new project: say in {nameof(AllowedReferences)} which of ours it may reference");
            var references = XDocument.Load(project).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')));
            outward.AddRange(references.Where(r => allowed is not null && !allowed.Contains(r, StringComparer.Ordinal)).Select(r => $"{name} → {r}"));
        }

        Assert.Empty(outward);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Chaser.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Chaser.sln not found above " + AppContext.BaseDirectory);
    }

    private static IEnumerable<Type> UsedTypes() =>
        Core.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetMethodBody() is not null)
            .SelectMany(CalledMethods)
            .Select(m => m.DeclaringType)
            .OfType<Type>();

    /// <summary>The methods an IL body calls (call / callvirt / newobj operands).</summary>
    private static IEnumerable<MethodBase> CalledMethods(MethodInfo method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray() ?? [];
        var result = new List<MethodBase>();
        for (var i = 0; i < il.Length - 4; i++)
        {
            // 0x28 call, 0x6F callvirt, 0x73 newobj: each followed by a 4-byte method token.
            if (il[i] is 0x28 or 0x6F or 0x73)
            {
                var token = BitConverter.ToInt32(il, i + 1);
                try
                {
                    if (method.Module.ResolveMethod(token, method.DeclaringType?.GetGenericArguments(), method.GetGenericArguments()) is { } called)
                    {
                        result.Add(called);
                    }
                }
                catch (ArgumentException)
                {
                    // Not a method token at this offset (the byte was an operand of another instruction).
                }
            }
        }

        return result;
    }
}

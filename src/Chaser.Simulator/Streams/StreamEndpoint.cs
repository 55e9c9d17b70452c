using System.Net;

namespace Chaser.Simulator.Streams;

/// <summary>One name a stream URL asks for: a market stream or a listen key, with the user events wanted (null = all).</summary>
internal sealed record RequestedStream(string Name, IReadOnlySet<string>? Events);

/// <summary>
/// What a market/user stream URL asks for (binance-futures-api.md §6, §7; Binance's "Important WebSocket Change
/// Notice"): the route (null for the retired unrouted /ws and /stream), raw (<c>/ws</c>) or combined (<c>/stream</c>)
/// payloads, and the names in the path (<c>/ws/a/b</c>), in <c>streams=a/b</c>, or in <c>listenKey=</c> each followed
/// by its own <c>events=A/B</c> (<c>/private/stream?listenKey=k1&amp;events=A&amp;listenKey=k2&amp;events=B</c>).
/// </summary>
internal sealed record StreamEndpoint(StreamRoute? Route, bool Combined, IReadOnlyList<RequestedStream> Requested)
{
    private static readonly (string Prefix, StreamRoute Route)[] Routes =
        [("/public", StreamRoute.Public), ("/market", StreamRoute.Market), ("/private", StreamRoute.Private)];

    /// <summary>Null when the path is not a stream endpoint at all (the server answers 404).</summary>
    public static StreamEndpoint? Parse(string path, string? query)
    {
        StreamRoute? route = null;
        foreach (var (prefix, r) in Routes)
        {
            if (path.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                route = r;
                path = path[prefix.Length..];
                break;
            }
        }

        bool combined;
        List<string> pathNames;
        if (path == "/ws" || path.StartsWith("/ws/", StringComparison.Ordinal))
        {
            combined = false;
            pathNames = [.. path.Length > 4 ? path[4..].Split('/', StringSplitOptions.RemoveEmptyEntries) : []];
        }
        else if (path is "/stream" or "/stream/")
        {
            combined = true;
            pathNames = [];
        }
        else
        {
            return null;
        }

        // Parameters in their order: an events= belongs to the listenKey= before it (or, with none before it, to the
        // names in the path), which is how one URL gives several keys each its own filter.
        var fromQuery = new List<(string Name, HashSet<string>? Events)>();
        HashSet<string>? pathEvents = null;
        var lastKey = -1;
        foreach (var pair in (query ?? string.Empty).TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = WebUtility.UrlDecode(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? string.Empty : WebUtility.UrlDecode(pair[(eq + 1)..]);
            var items = value.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            switch (name)
            {
                case "streams":
                    fromQuery.AddRange(items.Select(s => (s, (HashSet<string>?)null)));
                    break;
                case "listenKey":
                    // an empty key is still a key asked for, and an unknown one
                    fromQuery.Add((value, null));
                    lastKey = fromQuery.Count - 1;
                    break;
                case "events":
                    if (lastKey >= 0)
                    {
                        var (key, events) = fromQuery[lastKey];
                        fromQuery[lastKey] = (key, [.. events ?? [], .. items]);
                    }
                    else
                    {
                        pathEvents = [.. pathEvents ?? [], .. items];
                    }

                    break;
                default:
                    break;
            }
        }

        List<RequestedStream> requested = [.. pathNames.Select(n => new RequestedStream(n, pathEvents))];
        requested.AddRange(fromQuery.Select(q => new RequestedStream(q.Name, q.Events)));
        return new StreamEndpoint(route, combined, requested);
    }
}

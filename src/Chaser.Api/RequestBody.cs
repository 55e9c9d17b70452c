using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Chaser.Api;

/// <summary>
/// Reads a JSON request body once, strictly: malformed JSON, a key given twice anywhere, and any key or string that is
/// not clean Unicode text (invalid UTF-8, a lone surrogate, a NUL or other control character) are refused here, named
/// by their path (<c>[1].strategy</c>), so nothing further in can fail on them — or store them (PostgreSQL refuses NUL
/// in text; a control character in a strategy tag would reach every terminal that prints the report).
/// </summary>
internal static class RequestBody
{
    /// <summary>The most orders (or ids) one request may carry; a bigger batch is several requests.</summary>
    public const int MaxItems = 1_000;

    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    /// <summary>The parsed body, or null with the problems recorded in <paramref name="errors"/>.</summary>
    public static async Task<JsonDocument?> ReadAsync(HttpRequest request, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, Options, ct);
        }
        catch (JsonException e)
        {
            // The parser's message may quote a key of the client's: keep it short.
            errors["body"] = [$"not valid JSON: {(e.Message.Length <= 200 ? e.Message : e.Message[..200] + "…")}"];
            return null;
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check reads each key as text: a key that is not valid Unicode ends up here.
            errors["body"] = ["has a key that is not valid Unicode text (invalid UTF-8 or a lone surrogate)"];
            return null;
        }

        CheckText(document.RootElement, "", errors);
        if (errors.Count > 0)
        {
            document.Dispose();
            return null;
        }

        return document;
    }

    /// <summary>The ids of a <c>{"ids":[1,2]}</c> body: each a positive whole number, once, at most <see cref="MaxItems"/>.</summary>
    public static long[]? Ids(JsonElement body, Dictionary<string, string[]> errors)
    {
        const string Example = "an array of order ids, e.g. {\"ids\":[1,2]}";
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("ids", out var list))
        {
            errors["ids"] = ["required: " + Example];
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            errors["ids"] = ["must be " + Example];
            return null;
        }

        var count = list.GetArrayLength();
        if (count is 0 or > MaxItems)
        {
            errors["ids"] = [count == 0 ? "must be a non-empty array of order ids" : $"at most {MaxItems} ids per request, got {count}"];
            return null;
        }

        var ids = new long[count];
        var seen = new HashSet<long>();
        for (var i = 0; i < count; i++)
        {
            var item = list[i];
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out ids[i]) || ids[i] <= 0)
            {
                errors[$"ids[{i}]"] = ["must be an order id (a positive whole number)"];
            }
            else if (!seen.Add(ids[i]))
            {
                errors[$"ids[{i}]"] = [$"order {ids[i]} is listed twice"];
            }
        }

        return errors.Count > 0 ? null : ids;
    }

    private static void CheckText(JsonElement element, string path, Dictionary<string, string[]> errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        errors[path.Length > 0 ? path : "body"] = ["has a key that is not valid Unicode text (invalid UTF-8 or a lone surrogate)"];
                        continue;
                    }

                    var child = path.Length > 0 ? $"{path}.{name}" : name;
                    if (Problem(name) is { } keyProblem)
                    {
                        errors[path.Length > 0 ? path : "body"] = ["has a key containing " + keyProblem];
                        continue;
                    }

                    CheckText(property.Value, child, errors);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckText(item, $"{path}[{index++}]", errors);
                }

                break;
            case JsonValueKind.String:
                string? text;
                try
                {
                    text = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    errors[path.Length > 0 ? path : "body"] = ["is not valid Unicode text (invalid UTF-8 or a lone surrogate)"];
                    break;
                }

                if (Problem(text!) is { } problem)
                {
                    errors[path.Length > 0 ? path : "body"] = ["must not contain " + problem];
                }

                break;
        }
    }

    private static string? Problem(string text)
    {
        foreach (var c in text)
        {
            if (c == '\0')
            {
                return "a NUL character";
            }

            if (char.IsControl(c))
            {
                return "a control character (newline, tab, escape)";
            }
        }

        return null;
    }
}

using System.Reflection;
using System.Runtime.CompilerServices;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.Core.Tests;

/// <summary>What crosses the recorder port is a value: a recorder may keep it and write it later, on another thread.</summary>
public class RecorderPortTests
{
    [Fact]
    public void A_result_keeps_the_fills_it_was_given_not_the_list_they_came_in()
    {
        var fills = new List<FillRecord> { Fill(1) };
        var result = new ExecutionResult { Spec = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 1m), Status = FinishReason.Filled, Fills = fills };

        // The engine's list goes on (a late fill counted after the finish): the result handed to the recorder must not.
        fills.Add(Fill(2));

        Assert.Equal([1L], result.Fills.Select(f => f.TradeId));
        Assert.IsNotType<List<FillRecord>>(result.Fills, exactMatch: false);
        Assert.Equal([1L], (result with { Detail = "copied" }).Fills.Select(f => f.TradeId));
    }

    [Fact]
    public void Nothing_that_crosses_the_recorder_port_can_be_changed_after_it_was_made()
    {
        var mutable = new List<string>();
        foreach (var type in CrossingTypes())
        {
            foreach (var property in type.GetProperties(BindingFlags.Instance | BindingFlags.Public))
            {
                if (property.GetSetMethod(nonPublic: true) is { } setter
                    && !setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)))
                {
                    mutable.Add($"{type.Name}.{property.Name} has a setter");
                }

                var propertyType = property.PropertyType;
                if (propertyType.IsGenericType && !propertyType.IsValueType && propertyType.Namespace == "System.Collections.Generic"
                    && !propertyType.Name.StartsWith("IReadOnly", StringComparison.Ordinal))
                {
                    mutable.Add($"{type.Name}.{property.Name} is a {propertyType.Name}");
                }
            }

            if (type.IsValueType)
            {
                continue;
            }

            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public))
            {
                mutable.Add($"{type.Name}.{field.Name} is a public field");
            }
        }

        Assert.NotEmpty(CrossingTypes());
        Assert.Empty(mutable);
    }

    /// <summary>Every type of ours a recorder method takes, and the types of ours their properties hold, all the way down.</summary>
    private static HashSet<Type> CrossingTypes()
    {
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(typeof(IExecutionRecorder).GetMethods().SelectMany(m => m.GetParameters()).Select(p => p.ParameterType));
        while (pending.TryDequeue(out var type))
        {
            foreach (var candidate in type.IsGenericType ? type.GetGenericArguments() : [type])
            {
                if (candidate.Namespace?.StartsWith("Chaser.", StringComparison.Ordinal) == true && !candidate.IsEnum && seen.Add(candidate))
                {
                    foreach (var property in candidate.GetProperties(BindingFlags.Instance | BindingFlags.Public))
                    {
                        pending.Enqueue(property.PropertyType);
                    }
                }
                else if (candidate.IsGenericType)
                {
                    pending.Enqueue(candidate);
                }
            }
        }

        return seen;
    }

    private static FillRecord Fill(long tradeId) =>
        new(1, "chs-abcdef-1-1", tradeId, 65_000m, 0.001m, 0.013m, "USDT", true, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
}

using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>The host's tick-to-order latency, on a fake clock: from the frame that made the order stale to the hand-off.</summary>
public class OrderHostTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan HandOffCost = TimeSpan.FromMicroseconds(25);

    private readonly FakeTimeProvider _time = new(T0);
    private readonly DecisionLog _recorder = new();
    private readonly Gateway _gateway;
    private readonly OrderHost _host;

    public OrderHostTests()
    {
        _gateway = new Gateway(_time);
        var spec = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.010m);
        _host = new OrderHost(new ChaserStateMachine(spec, ExecutionEngineTests.Btc, new ChaserOptions(), clientIdTag: "host01"), _gateway, _recorder, _time);
        _host.Start(initialBudget: 1m);
    }

    [Fact]
    public void A_reprice_the_minimum_interval_held_back_is_measured_from_the_frame_that_made_the_order_stale()
    {
        // The timer that sent it carried no frame, so over half of the re-prices had no latency at all.
        Book(65_000.0m, updateId: 1);
        Accept(65_000.0m);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        var staleFrame = Book(65_000.2m, updateId: 2);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Book(65_000.3m, updateId: 3);
        Assert.Single(_gateway.Sent);

        var firedAt = FireTimer();

        var modify = Assert.Single(_recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Modify);
        Assert.Equal((EventKind.Timer, DecisionRule.RepriceBehindBest, 65_000.3m), (modify.Command.Cause.Trigger, modify.Command.Cause.Rule, modify.Command.Price));
        Assert.Equal((firedAt + HandOffCost - staleFrame).TotalMicroseconds, modify.TickToOrderMicroseconds);
        Assert.Equal(2, _host.Complete().Latency.Count);
    }

    [Fact]
    public void A_reprice_sent_on_the_frame_is_measured_from_it_and_a_later_one_from_the_frame_after_it()
    {
        Book(65_000.0m, updateId: 1);
        Accept(65_000.0m);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Book(65_000.2m, updateId: 2);
        var first = Assert.Single(_recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Modify);
        Assert.Equal(HandOffCost.TotalMicroseconds, first.TickToOrderMicroseconds);

        // The modify is in flight when the book moves again: that frame, not the first, is what the next re-price answers.
        _time.Advance(TimeSpan.FromMilliseconds(20));
        var secondFrame = Book(65_000.4m, updateId: 3);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Accept(65_000.2m, isModify: true);
        var firedAt = FireTimer();

        var second = _recorder.Decisions.Where(d => d.Command.Kind == ChaserCommandKind.Modify).ElementAt(1);
        Assert.Equal(65_000.4m, second.Command.Price);
        Assert.Equal((firedAt + HandOffCost - secondFrame).TotalMicroseconds, second.TickToOrderMicroseconds);
    }

    [Fact]
    public void A_held_back_reprice_has_its_wait_in_tick_to_order_and_only_the_engines_own_time_in_its_hop()
    {
        // One figure per decision mixed the two: a re-price sent by the timer 300 ms after the stale frame counted
        // 300 ms against the engine, though the engine took 25 µs from the timer's firing to the socket.
        Book(65_000.0m, updateId: 1);
        Accept(65_000.0m);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        var staleFrame = Book(65_000.2m, updateId: 2);

        var firedAt = FireTimer();

        var modify = Assert.Single(_recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Modify);
        Assert.Equal(EventKind.Timer, modify.Command.Cause.Trigger);
        Assert.Equal((firedAt + HandOffCost - staleFrame).TotalMicroseconds, modify.TickToOrderMicroseconds);
        Assert.Equal(HandOffCost.TotalMicroseconds, modify.HopMicroseconds);
        var result = _host.Complete();
        Assert.Equal((2, HandOffCost.TotalMicroseconds), (result.Hop.Count, result.Hop.Max));
        Assert.Equal(modify.TickToOrderMicroseconds, result.Latency.Max); // the wait stays in tick-to-order
    }

    [Fact]
    public void The_hop_runs_from_the_inputs_receipt_so_time_it_waited_before_the_host_counts()
    {
        // A fill received 40 µs before its order's loop got to it: those 40 µs are the engine's, not the exchange's.
        Book(65_000.0m, updateId: 1);
        var child = _gateway.Sent[^1].Command.ClientOrderId;
        Accept(65_000.0m);
        var received = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMicroseconds(40));
        _host.Handle(ChaserInput.OfFill(new Fill(child, 7, 65_000.0m, 0.004m, 0m, "USDT", true, 0.004m, false, T0, T0)).ReceivedAt(received));
        _time.Advance(TimeSpan.FromMilliseconds(300));
        var frame = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMicroseconds(40));
        _host.Handle(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.2m, 3m, 65_000.7m, 3m, 2, _time.GetUtcNow()), frame));

        var modify = Assert.Single(_recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Modify);
        Assert.Equal(EventKind.BookTop, modify.Command.Cause.Trigger);
        Assert.Equal((40 + HandOffCost.TotalMicroseconds, 40 + HandOffCost.TotalMicroseconds), (modify.TickToOrderMicroseconds, modify.HopMicroseconds));
    }

    [Fact]
    public void An_input_nobody_stamped_has_no_hop()
    {
        _host.Handle(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.0m, 3m, 65_000.5m, 3m, 1, T0), receivedTimestamp: 0));
        var sent = Assert.Single(_recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Place);
        Assert.Equal(((double?)null, (double?)null), (sent.TickToOrderMicroseconds, sent.HopMicroseconds)); // unknown arrival: unmeasured, never 0
    }

    [Fact]
    public void A_request_the_gateway_refused_is_recorded_with_no_latency()
    {
        // The connector returned a timestamp for a request its rate guard refused: counted as sent, with a latency.
        _gateway.Refuse = true;
        Book(65_000.0m, updateId: 1);

        var place = Assert.Single(_recorder.Decisions);
        Assert.Equal(ChaserCommandKind.Place, place.Command.Kind);
        Assert.Null(place.TickToOrderMicroseconds);
        Assert.Null(place.HopMicroseconds);
        Assert.Equal((0, 0), (_host.Complete().Latency.Count, _host.Complete().Hop.Count));
    }

    [Fact]
    public void A_refused_reprice_keeps_the_stale_frame_for_its_retry()
    {
        Book(65_000.0m, updateId: 1);
        Accept(65_000.0m);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        _gateway.Refuse = true;
        var staleFrame = Book(65_000.2m, updateId: 2);
        var refused = Assert.Single(_recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Modify);
        Assert.Null(refused.TickToOrderMicroseconds);

        // The connector's answer to a refusal: a retryable reject; the retry goes out after the backoff.
        _gateway.Refuse = false;
        _host.Handle(ChaserInput.OfRejected(new OrderRejected(refused.Command.ClientOrderId, RequestKind.Modify, RejectKind.Retryable, -1015, "order rate limit", _time.GetUtcNow())));
        var firedAt = FireTimer();

        var retry = _recorder.Decisions.Where(d => d.Command.Kind == ChaserCommandKind.Modify).ElementAt(1);
        Assert.Equal((firedAt + HandOffCost - staleFrame).TotalMicroseconds, retry.TickToOrderMicroseconds);
    }

    [Fact]
    public void A_fill_delivered_twice_is_counted_and_recorded_once_and_a_late_one_after_the_finish_still_counts()
    {
        Book(65_000.0m, updateId: 1);
        Accept(65_000.0m);
        var id = _gateway.Sent[^1].Command.ClientOrderId;
        var fill = new Fill(id, 7, 65_000.0m, 0.004m, 0.05m, "USDT", true, 0.004m, false, T0, T0);
        _host.Handle(ChaserInput.OfFill(fill));
        _host.Handle(ChaserInput.OfFill(fill));
        Assert.Single(_recorder.Fills);

        // The rest fills on the stream; the query's answer brings the first fill again.
        _host.Handle(ChaserInput.OfFill(fill with { TradeId = 8, Quantity = 0.006m, CumulativeQuantity = 0.010m, OrderFullyFilled = true }));
        Assert.True(_host.IsFinished);
        _host.Handle(ChaserInput.OfFill(fill));

        var result = _host.Complete();
        Assert.Equal((FinishReason.Filled, 0.010m, 2), (result.Status, result.FilledQuantity, result.Fills.Count));
        Assert.Equal([7L, 8L], _recorder.Fills.Select(f => f.TradeId));
    }

    [Fact]
    public void The_host_records_what_its_machine_was_built_from_and_every_input_until_the_finish_and_they_replay_the_same()
    {
        var spec = new ParentOrderSpec(2, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.010m) { MinRepriceInterval = TimeSpan.FromMilliseconds(350) };
        var machine = new ChaserStateMachine(spec, ExecutionEngineTests.Btc, new ChaserOptions { PreferModify = false }, clientIdTag: "host02");
        var log = new DecisionLog();
        var gateway = new Gateway(_time);
        var host = new OrderHost(machine, gateway, log, _time);
        host.Start(initialBudget: 0.5m);

        var start = Assert.Single(log.Starts);
        Assert.Equal((spec, ExecutionEngineTests.Btc, "host02", T0, 0.5m), (start.Spec, start.Rules, start.ClientIdTag, start.StartedAt, start.InitialRateBudget));
        Assert.Equal(new ChaserOptions { PreferModify = false, MinRepriceInterval = TimeSpan.FromMilliseconds(350) }, start.Options);
        Assert.Empty(log.Inputs); // the start and its rate budget are the start's, not inputs

        // Another order on the symbol spent the cancel budget: an input like any other, recorded before the machine sees it.
        host.Handle(ChaserInput.OfCancelBudget(false));
        host.Handle(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.0m, 3m, 65_000.5m, 3m, 1, T0), _time.GetTimestamp()));
        var id = gateway.Sent[^1].Command.ClientOrderId;
        host.Handle(ChaserInput.OfAccepted(new OrderAccepted(id, 1, 65_000.0m, 0.010m, false, T0, T0)));
        _time.Advance(TimeSpan.FromSeconds(1));
        host.Handle(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.2m, 3m, 65_000.5m, 3m, 2, T0), _time.GetTimestamp()));
        var fill = new Fill(id, 9, 65_000.0m, 0.010m, 0.05m, "USDT", true, 0.010m, true, T0, T0);
        host.Handle(ChaserInput.OfFill(fill));
        Assert.True(host.IsFinished);
        host.Handle(ChaserInput.OfFill(fill with { TradeId = 10 })); // late: counted, not an input of a working machine

        Assert.Equal(
            [EventKind.CancelBudget, EventKind.BookTop, EventKind.Accepted, EventKind.BookTop, EventKind.Fill],
            log.Inputs.Select(i => i.Input.Kind));
        Assert.Equal(T0.AddSeconds(1) + HandOffCost, log.Inputs[^1].Time);

        var decisions = log.Decisions.Select(d => RecordedDecision.Of(d.Command)).ToList();
        var replay = OrderReplay.Run(start, log.Inputs, decisions);
        Assert.True(replay.Same, $"{replay.Divergence}");
        Assert.Equal(decisions.Count, replay.SameDecisions);
    }

    /// <summary>Delivers a book whose bid is <paramref name="bid"/>; returns when it arrived, from the start.</summary>
    private TimeSpan Book(decimal bid, long updateId)
    {
        var arrived = _time.GetUtcNow() - T0;
        _host.Handle(ChaserInput.OfBook("BTCUSDT", new BookTop(bid, 3m, bid + 0.5m, 3m, updateId, _time.GetUtcNow()), _time.GetTimestamp()));
        return arrived;
    }

    /// <summary>Moves to the chaser's wake-up and fires its timer; returns when, from the start.</summary>
    private TimeSpan FireTimer()
    {
        _time.Advance(_host.NextWakeUp!.Value - _time.GetUtcNow());
        var firedAt = _time.GetUtcNow() - T0;
        _host.Handle(ChaserInput.Timer.ReceivedAt(_time.GetTimestamp())); // as the runner's timer stamps it
        return firedAt;
    }

    private void Accept(decimal price, bool isModify = false)
    {
        var id = _gateway.Sent[^1].Command.ClientOrderId;
        _host.Handle(ChaserInput.OfAccepted(new OrderAccepted(id, 1, price, 0.010m, isModify, _time.GetUtcNow(), _time.GetUtcNow())));
    }

    /// <summary>Hands requests "to the socket" a fixed cost after they were asked for, or refuses them.</summary>
    private sealed class Gateway(FakeTimeProvider time) : IOrderGateway
    {
        public bool Refuse { get; set; }

        public List<OrderRequest> Sent { get; } = [];

        public Submission Submit(in OrderRequest request)
        {
            if (Refuse)
            {
                return Submission.Refused;
            }

            time.Advance(HandOffCost);
            Sent.Add(request);
            return Submission.HandedOffAt(time.GetTimestamp());
        }
    }

    private sealed class DecisionLog : IExecutionRecorder
    {
        public List<DecisionRecord> Decisions { get; } = [];

        public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
        {
        }

        public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time)
        {
        }

        public void Mid(MidSample sample)
        {
        }

        public void Decision(DecisionRecord decision) => Decisions.Add(decision);

        public void Child(ChildOrderSnapshot child)
        {
        }

        public List<FillRecord> Fills { get; } = [];

        public void Fill(FillRecord fill) => Fills.Add(fill);

        public List<ReplayStart> Starts { get; } = [];

        /// <summary>Each input with the number of decisions before it, as the storage recorder counts them.</summary>
        public List<ReplayInput> Inputs { get; } = [];

        public void MachineStarted(ReplayStart start) => Starts.Add(start);

        public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input) => Inputs.Add(new ReplayInput(input, time, Decisions.Count));

        public void OrderCompleted(ExecutionResult result)
        {
        }
    }
}

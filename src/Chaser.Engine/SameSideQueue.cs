namespace Chaser.Engine;

/// <summary>
/// The parent orders of one symbol and side, worked one at a time, first in first out (a semaphore promises no
/// order). Each order joins with <see cref="Join"/> before its first await and leaves when it ends, working or not.
/// </summary>
internal sealed class SameSideQueue
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Turn> _turns = new();

    public Turn Join(long parentId)
    {
        var turn = new Turn(this, parentId);
        lock (_lock)
        {
            turn.Node = _turns.AddLast(turn);
            if (_turns.First == turn.Node)
            {
                turn.Grant();
            }
        }

        return turn;
    }

    /// <summary>Whether no order is in line (working or waiting): the queue can be dropped.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _turns.Count == 0;
            }
        }
    }

    /// <summary>The orders still waiting for their turn, each with the order right in front of it and how many are.</summary>
    public IEnumerable<(long ParentId, QueuedOrder Place)> Waiting()
    {
        lock (_lock)
        {
            var waiting = new List<(long, QueuedOrder)>();
            var ahead = 0;
            for (var node = _turns.First; node is not null; node = node.Next, ahead++)
            {
                if (node.Previous is { } previous)
                {
                    waiting.Add((node.Value.ParentId, new QueuedOrder(previous.Value.ParentId, ahead)));
                }
            }

            return waiting;
        }
    }

    private void Leave(Turn turn)
    {
        lock (_lock)
        {
            if (turn.Node?.List is null)
            {
                return;
            }

            var wasFirst = _turns.First == turn.Node;
            _turns.Remove(turn.Node);
            if (wasFirst)
            {
                _turns.First?.Value.Grant();
            }
        }
    }

    /// <summary>One order's place in the queue: <see cref="Ready"/> completes when it is its turn.</summary>
    public sealed class Turn(SameSideQueue queue, long parentId)
    {
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ready => _ready.Task;

        public long ParentId => parentId;

        internal LinkedListNode<Turn>? Node { get; set; }

        /// <summary>Gives up the place (waiting or not); the next order in line gets its turn. Idempotent.</summary>
        public void Leave() => queue.Leave(this);

        internal void Grant() => _ready.TrySetResult();
    }
}

/// <summary>
/// A parent order waiting in its symbol and side's queue: <paramref name="Behind"/> is the order right in front of it,
/// <paramref name="Ahead"/> how many orders are in front (1: it starts when <paramref name="Behind"/> ends).
/// </summary>
public sealed record QueuedOrder(long Behind, int Ahead);

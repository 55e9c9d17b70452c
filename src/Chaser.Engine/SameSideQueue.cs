namespace Chaser.Engine;

/// <summary>
/// The parent orders of one symbol and side, worked one at a time, first in first out (a semaphore promises no
/// order). Each order joins with <see cref="Join"/> before its first await and leaves when it ends, working or not.
/// </summary>
internal sealed class SameSideQueue
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Turn> _turns = new();

    public Turn Join()
    {
        var turn = new Turn(this);
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
    public sealed class Turn(SameSideQueue queue)
    {
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ready => _ready.Task;

        internal LinkedListNode<Turn>? Node { get; set; }

        /// <summary>Gives up the place (waiting or not); the next order in line gets its turn. Idempotent.</summary>
        public void Leave() => queue.Leave(this);

        internal void Grant() => _ready.TrySetResult();
    }
}

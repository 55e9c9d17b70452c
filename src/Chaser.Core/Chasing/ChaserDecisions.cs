namespace Chaser.Core.Chasing;

/// <summary>
/// The commands one event produced. A view over the machine's reused buffer: read it (or copy it with
/// <see cref="ToArray"/>) before the next event is fed. A struct with a struct enumerator, so iterating allocates nothing.
/// </summary>
public readonly struct ChaserDecisions
{
    private readonly List<ChaserCommand>? _commands;

    internal ChaserDecisions(List<ChaserCommand> commands) => _commands = commands;

    public int Count => _commands?.Count ?? 0;

    public bool IsEmpty => Count == 0;

    public ChaserCommand this[int index] => _commands is null ? throw new ArgumentOutOfRangeException(nameof(index)) : _commands[index];

    public ChaserCommand[] ToArray() => _commands?.ToArray() ?? [];

    public List<ChaserCommand>.Enumerator GetEnumerator() => (_commands ?? []).GetEnumerator();
}

using Chaser.Core.Ports;
using Chaser.Engine;

namespace Chaser.Storage.Tests;

/// <summary>Restart recovery as <c>chaser serve</c> runs it on a database: its order store, and a recorder writing into it.</summary>
internal static class Recovery
{
    public static async Task<RecoveryReport> RecoverAsync(string database, IExchangeConnector connector, IExchangeHistory history, string venue, string account, TimeSpan? lease = null, CancellationToken cancellationToken = default)
    {
        await using var recorder = new StorageRecorder(database);
        return await RestartRecovery.RecoverAsync(new OrderStore(database), recorder, connector, history, venue, account, lease: lease, cancellationToken: cancellationToken);
    }
}

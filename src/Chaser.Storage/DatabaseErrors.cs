using Microsoft.Data.Sqlite;
using Npgsql;

namespace Chaser.Storage;

/// <summary>What a failed database call means for the request that made it.</summary>
public enum DatabaseFailureKind
{
    /// <summary>Busy, locked, unreachable, out of space, shutting down: nothing wrong with the request; retry later.</summary>
    Unavailable,

    /// <summary>The database refused a value (overflow, bad text, a constraint): the request's fault.</summary>
    ValueRefused,
}

/// <summary>A classified database failure; <see cref="Reason"/> is the provider's own words, never a connection string.</summary>
public sealed record DatabaseFailure(DatabaseFailureKind Kind, string Reason);

/// <summary>Tells a database failure (SQLite or PostgreSQL, bare or wrapped by EF Core) from a bug.</summary>
public static class DatabaseErrors
{
    /// <summary>The failure <paramref name="exception"/> (or one it wraps) stands for, or null when it is no database failure.</summary>
    public static DatabaseFailure? Classify(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SqliteException sqlite:
                    // Primary result codes (the low byte of extended ones), https://sqlite.org/rescode.html: ERROR is a
                    // missing table or bad SQL (a bug); CONSTRAINT, TOOBIG, MISMATCH and RANGE refuse a value; the
                    // rest (BUSY, LOCKED, IOERR, FULL, CANTOPEN, READONLY…) are the database not being usable now.
                    return (sqlite.SqliteErrorCode & 0xff) switch
                    {
                        1 => null,
                        18 or 19 or 20 or 25 => new(DatabaseFailureKind.ValueRefused, sqlite.Message),
                        _ => new(DatabaseFailureKind.Unavailable, sqlite.Message),
                    };
                case PostgresException postgres:
                    // SQLSTATE classes, https://www.postgresql.org/docs/current/errcodes-appendix.html: 22 data
                    // exception and 23 integrity refuse a value; 08 connection, 28 authorization, 3D no such database,
                    // 40 rollback (serialization, deadlock), 53 resources, 55 object in use and 57 operator intervention
                    // (shutdown) are the server not being usable now; anything else is a bug.
                    return postgres.SqlState[..2] switch
                    {
                        "22" or "23" => new(DatabaseFailureKind.ValueRefused, postgres.MessageText),
                        "08" or "28" or "3D" or "40" or "53" or "55" or "57" => new(DatabaseFailureKind.Unavailable, postgres.MessageText),
                        _ => null,
                    };
                case NpgsqlException npgsql:
                    // No server answer at all: refused connection, timeout, broken stream.
                    return new(DatabaseFailureKind.Unavailable, npgsql.Message);
                case TimeoutException timeout:
                    return new(DatabaseFailureKind.Unavailable, timeout.Message);
            }
        }

        return null;
    }
}

using System.Security.Cryptography;

namespace Chaser.Simulator.Server;

/// <summary>
/// The account's user-data-stream key: POST returns the active key (creating one if none), PUT extends it by the
/// validity (60 min), DELETE closes it; a key not extended in time expires and its streams get listenKeyExpired.
/// </summary>
internal sealed class ListenKeys(TimeProvider time, TimeSpan validity)
{
    private readonly Lock gate = new();
    private string? active;
    private long expiresAt;

    /// <summary>Raised (outside the lock) with the key that lapsed or was closed, and whether it expired.</summary>
    public event Action<string, bool>? Ended;

    public string CreateOrGet()
    {
        lock (gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (active is null || now >= expiresAt)
            {
                active = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 64);
            }

            expiresAt = now + (long)validity.TotalMilliseconds;
            return active;
        }
    }

    public bool Extend(string? key)
    {
        lock (gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (active is null || (key is not null && key != active) || now >= expiresAt)
            {
                return false;
            }

            expiresAt = now + (long)validity.TotalMilliseconds;
            return true;
        }
    }

    public string? Active
    {
        get
        {
            lock (gate)
            {
                return active is not null && time.GetUtcNow().ToUnixTimeMilliseconds() < expiresAt ? active : null;
            }
        }
    }

    public bool IsValid(string key) => Active == key;

    public void Close(string? key)
    {
        string? closed = null;
        lock (gate)
        {
            if (active is not null && (key is null || key == active))
            {
                closed = active;
                active = null;
            }
        }

        if (closed is not null)
        {
            Ended?.Invoke(closed, false);
        }
    }

    /// <summary>Called periodically: expires a key that was not extended in time.</summary>
    public void CheckExpiry()
    {
        string? expired = null;
        lock (gate)
        {
            if (active is not null && time.GetUtcNow().ToUnixTimeMilliseconds() >= expiresAt)
            {
                expired = active;
                active = null;
            }
        }

        if (expired is not null)
        {
            Ended?.Invoke(expired, true);
        }
    }
}

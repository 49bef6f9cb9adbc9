using System.Security.Cryptography;
using System.Text;

namespace Tunebook.Kernel.Protocol;

/// <summary>
/// Signs and verifies the HMAC of the four JSON frames of a Jupyter message, with the scheme the
/// connection file names ("hmac-sha256", "hmac-sha1", "hmac-md5", ...). An empty key means no signing.
/// </summary>
public sealed class MessageSigner
{
    readonly byte[] _key;
    readonly Func<byte[], byte[], byte[]>? _hmac;

    MessageSigner(byte[] key, Func<byte[], byte[], byte[]>? hmac) { _key = key; _hmac = hmac; }

    public bool Enabled => _hmac is not null;

    public static MessageSigner Create(string scheme, string key)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key ?? "");
        if (keyBytes.Length == 0) return new MessageSigner(keyBytes, null);
        Func<byte[], byte[], byte[]> hmac = (scheme ?? "").ToLowerInvariant() switch
        {
            "hmac-sha256" or "" => HMACSHA256.HashData,
            "hmac-sha1" => HMACSHA1.HashData,
            "hmac-md5" => HMACMD5.HashData,
            "hmac-sha384" => HMACSHA384.HashData,
            "hmac-sha512" => HMACSHA512.HashData,
            _ => throw new InvalidDataException(
                $"signature_scheme \"{scheme}\" is not supported (expected hmac-sha256, hmac-sha1, hmac-md5, hmac-sha384 or hmac-sha512)"),
        };
        return new MessageSigner(keyBytes, hmac);
    }

    /// <summary>The lowercase hex signature of header, parent header, metadata and content, in that order.</summary>
    public string Sign(ReadOnlySpan<byte[]> parts)
    {
        if (_hmac is null) return "";
        return Convert.ToHexStringLower(Mac(parts));
    }

    byte[] Mac(ReadOnlySpan<byte[]> parts)
    {
        int total = 0;
        foreach (var p in parts) total += p.Length;
        var joined = new byte[total];
        int offset = 0;
        foreach (var p in parts) { p.CopyTo(joined, offset); offset += p.Length; }
        return _hmac!(_key, joined);
    }

    /// <summary>Checks a received signature in constant time. Without a key every message is accepted.</summary>
    public bool Verify(byte[] signatureHex, ReadOnlySpan<byte[]> parts)
    {
        if (_hmac is null) return true;
        byte[] given;
        try { given = Convert.FromHexString(Encoding.ASCII.GetString(signatureHex)); }
        catch (FormatException) { return false; }
        var expected = Mac(parts);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}

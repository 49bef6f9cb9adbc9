using System.IO.MemoryMappedFiles;

namespace Tunebook.Torch;

/// <summary>
/// A safetensors file opened for reading. The file is memory-mapped and only the header is parsed
/// (and validated) on open; a tensor's bytes are paged in when it is read.
/// <para>
/// Rewrites of the file go through a temp file and a rename, so an open reader keeps seeing the version
/// it opened. Truncating the file in place while it is open is not supported (the OS would fault on
/// reads of the vanished pages).
/// </para>
/// </summary>
public sealed unsafe class SafetensorsFile : ISafetensorsReader
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _base;
    readonly long _dataStart;
    int _disposed;

    SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, SafetensorsHeader header, long dataStart)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePointer;
        Header = header;
        _dataStart = dataStart;
    }

    /// <summary>
    /// Opens and validates a file. Throws <see cref="SafetensorsFormatException"/> (naming the file and
    /// tensor) for a malformed file and <see cref="FileNotFoundException"/> when it does not exist.
    /// </summary>
    /// <param name="path">The .safetensors file.</param>
    /// <param name="maxHeaderBytes">Largest header accepted; the default is the reference's 100 MB.</param>
    public static SafetensorsFile Open(string path, long maxHeaderBytes = SafetensorsHeader.DefaultMaxHeaderBytes)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var fileLength = stream.Length;

        // Check the prefix before mapping: an empty file cannot be mapped at all.
        Span<byte> prefix = stackalloc byte[8];
        var got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        var headerLength = SafetensorsHeader.ReadLength(prefix[..got], fileLength, fullPath, maxHeaderBytes);

        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            acquired = true;
            pointer += view.PointerOffset;

            var dataStart = 8 + headerLength;
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(pointer + 8, checked((int)headerLength)), fileLength - dataStart, fullPath);
            return new SafetensorsFile(fullPath, map, view, pointer, header, dataStart);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header { get; }

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsEntry> Entries => Header.Entries;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <inheritdoc />
    public bool Contains(string name) => Header.TryGetEntry(name, out _);

    /// <inheritdoc />
    public SafetensorsEntry GetEntry(string name) =>
        Header.TryGetEntry(name, out var entry)
            ? entry
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}' (the file holds {Header.Entries.Count} tensors)");

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var entry = GetEntry(name);
        if (entry.ByteLength > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{name}' has {entry.ByteLength} bytes, more than a span can hold; read it with OpenRead");
        return new ReadOnlySpan<byte>(DataPointer(entry), (int)entry.ByteLength);
    }

    /// <inheritdoc />
    public Stream OpenRead(string name)
    {
        var entry = GetEntry(name);
        return new UnmanagedMemoryStream(DataPointer(entry), entry.ByteLength);
    }

    /// <inheritdoc />
    public IntPtr GetDataAddress(string name) => (IntPtr)DataPointer(GetEntry(name));

    byte* DataPointer(SafetensorsEntry entry)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _base + _dataStart + entry.DataBegin;
    }

    /// <summary>Unmaps the file; spans and streams obtained from it must no longer be used.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Path} ({Header.Entries.Count} tensors, {Header.DataLength} data bytes)";
}

using System.Runtime.Loader;

namespace Tunebook.Torch.Tests;

public class NativeLoaderTests
{
    [Fact]
    public void MissingLibtorchNamesWhatToInstall()
    {
        // A user of the package without libtorch: the shim is found but its libtorch is not. Simulated with a copy of
        // the shim whose dependency libtorch_cpu.so.* is renamed (same length) to a library no system has, next to a
        // second copy of Tunebook.Torch.dll loaded in its own load context, so this process's own torch is untouched.
        var torchDll = typeof(torch).Assembly.Location;
        var shim = Path.Combine(Path.GetDirectoryName(torchDll)!, "libtunebook_torch.so");
        Assert.True(File.Exists(shim), $"{shim} is missing (the Tunebook.Torch project copies build/native's shim into its output)");
        var dir = Directory.CreateTempSubdirectory("tunebook-no-libtorch-");
        var context = new AssemblyLoadContext("no-libtorch", isCollectible: true);
        try
        {
            File.Copy(torchDll, Path.Combine(dir.FullName, "Tunebook.Torch.dll"));
            byte[] bytes = File.ReadAllBytes(shim);
            int renamed = Rename(bytes, "libtorch_cpu.so"u8, "libtorch_cpX.so"u8);
            Assert.True(renamed > 0, "the shim does not name libtorch_cpu.so");
            File.WriteAllBytes(Path.Combine(dir.FullName, "libtunebook_torch.so"), bytes);

            var assembly = context.LoadFromAssemblyPath(Path.Combine(dir.FullName, "Tunebook.Torch.dll"));
            var call = assembly.GetType("Tunebook.Torch.torch")!.GetMethod(nameof(torch.get_num_threads))!;
            var error = Assert.ThrowsAny<Exception>(() => call.Invoke(null, null));
            var message = string.Join(" | ", Chain(error).Select(e => e.Message));
            Assert.Contains("libtorch_cpX.so", message);                  // what the loader could not find
            Assert.Contains("libtorch 1.13", message);                    // which libtorch the shim needs
            Assert.Contains("apt install libtorch1.13", message);         // how to get it
            Assert.Contains(Path.Combine(dir.FullName, "libtunebook_torch.so"), message);
        }
        finally
        {
            context.Unload();
            try { dir.Delete(recursive: true); } catch (IOException) { /* a loaded copy may still be mapped */ }
        }
    }

    static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException) yield return e;
    }

    static int Rename(byte[] bytes, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        int count = 0;
        for (int i = bytes.AsSpan().IndexOf(from); i >= 0; )
        {
            to.CopyTo(bytes.AsSpan(i));
            count++;
            int next = bytes.AsSpan(i + from.Length).IndexOf(from);
            i = next < 0 ? -1 : i + from.Length + next;
        }
        return count;
    }
}

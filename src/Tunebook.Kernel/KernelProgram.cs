using Tunebook.Kernel.Protocol;
using Tunebook.Kernel.Server;

namespace Tunebook.Kernel;

/// <summary>The kernel process: read the connection file, serve until shutdown, exit.</summary>
public static class KernelProgram
{
    /// <summary>Runs the kernel for a connection file. Returns the process exit code.</summary>
    public static int Run(string connectionFile)
    {
        // The kernel's own diagnostics go to the real stderr (the Jupyter server's log), never into a cell.
        // A duplicate of fd 2, taken before the kernel redirects fd 2 into the notebook.
        var log = TextWriter.Synchronized(new StreamWriter(NativeOutputCapture.DuplicateForWriting(2)) { AutoFlush = true });
        ConnectionInfo connection;
        try { connection = ConnectionInfo.Load(connectionFile); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            log.WriteLine($"tunebook kernel: {e.Message}");
            return 2;
        }
        KernelServer server;
        try { server = new KernelServer(connection, log); }
        catch (Tunebook.Kernel.Zmq.ZmqException e)
        {
            log.WriteLine($"tunebook kernel: {e.Message} (from {connectionFile})");
            return 1;
        }
        using (server) server.Run();
        log.WriteLine("[tunebook kernel] shut down");
        // A cell that ignores its cancellation token may still be running on the shell thread: exit regardless.
        Environment.Exit(0);
        return 0;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Kernel;

/// <summary>
/// Writes the Jupyter kernelspec ("kernels/tunebook/kernel.json" plus logos) that lets VS Code, JupyterLab
/// and Jupyter Notebook start this kernel.
/// </summary>
public static class Kernelspec
{
    public const string Name = "tunebook";
    public const string DisplayName = "C# (Tunebook)";

    /// <summary>Jupyter's per-user data folder: $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter.</summary>
    public static string UserDataDirectory()
    {
        var explicitDir = Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR");
        if (!string.IsNullOrEmpty(explicitDir)) return explicitDir;
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg, "jupyter");
    }

    /// <summary>
    /// Installs the kernelspec under <paramref name="prefix"/>/share/jupyter/kernels (when given) or the user's
    /// Jupyter data folder. <paramref name="cliAssembly"/> is the tunebook.dll the kernel runs from.
    /// Returns the kernelspec folder.
    /// </summary>
    public static string Install(string cliAssembly, string? prefix = null)
    {
        var root = prefix is null ? UserDataDirectory() : Path.Combine(Path.GetFullPath(prefix), "share", "jupyter");
        var folder = Path.Combine(root, "kernels", Name);
        Directory.CreateDirectory(folder);

        var spec = new JsonObject
        {
            ["argv"] = new JsonArray(DotnetHost(), Path.GetFullPath(cliAssembly), "kernel", "run", "--connection-file", "{connection_file}"),
            ["display_name"] = DisplayName,
            ["language"] = "csharp",
            ["interrupt_mode"] = "message",
            ["env"] = new JsonObject { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" },
            ["metadata"] = new JsonObject { ["debugger"] = false },
        };
        Tunebook.IO.AtomicFile.WriteAllBytes(Path.Combine(folder, "kernel.json"), System.Text.Encoding.UTF8.GetBytes(spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        Tunebook.IO.AtomicFile.WriteAllBytes(Path.Combine(folder, "logo-svg.svg"), System.Text.Encoding.UTF8.GetBytes(Logo.Svg));
        Tunebook.IO.AtomicFile.WriteAllBytes(Path.Combine(folder, "logo-64x64.png"), Logo.Png(64));
        Tunebook.IO.AtomicFile.WriteAllBytes(Path.Combine(folder, "logo-32x32.png"), Logo.Png(32));
        return folder;
    }

    /// <summary>The dotnet host running us (absolute, so the kernel starts even when PATH lacks dotnet), else "dotnet".</summary>
    static string DotnetHost()
    {
        var path = Environment.ProcessPath;
        return path is not null && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }
}

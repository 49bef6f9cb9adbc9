using Tunebook.Interactive;
using Tunebook.Kernel.Execution;

namespace Tunebook.Kernel.Magics;

/// <summary>The magics every Tunebook kernel has; extensions add their own.</summary>
static class BuiltIn
{
    public static IEnumerable<MagicCommand> Create(CellExecutor executor) =>
        [new TimeMagic(), new WhoMagic(executor), new HelpMagic(executor)];
}

/// <summary>Options of magics that take none.</summary>
public sealed class NoOptions;

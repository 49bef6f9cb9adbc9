using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tunebook.Kernel.Protocol;

/// <summary>
/// The inputs (and text outputs) of the cells executed with store_history, served to history_request
/// ("tail", "range" and "search", like IPython's history manager, for the current session).
/// </summary>
sealed class History
{
    public const int Session = 1;
    readonly List<(int Line, string Input, string? Output)> _entries = [];
    readonly object _gate = new();

    public void Add(int line, string input) { lock (_gate) _entries.Add((line, input, null)); }

    public void SetOutput(int line, string output)
    {
        lock (_gate)
        {
            int i = _entries.FindLastIndex(e => e.Line == line);
            if (i >= 0) _entries[i] = (line, _entries[i].Input, output);
        }
    }

    public JsonArray Query(JsonObject request)
    {
        bool output = (bool?)request["output"] ?? false;
        string access = (string?)request["hist_access_type"] ?? "tail";
        List<(int Line, string Input, string? Output)> selected;
        lock (_gate) selected = [.. _entries];

        switch (access)
        {
            case "tail":
                selected = TakeLast(selected, (int?)request["n"]);
                break;
            case "range":
                int session = (int?)request["session"] ?? 0;
                if (session is not (0 or Session) && session >= 0) { selected = []; break; }
                int start = (int?)request["start"] ?? 1;
                int? stop = (int?)request["stop"];
                selected = selected.Where(e => e.Line >= start && (stop is null || e.Line < stop)).ToList();
                break;
            case "search":
                var pattern = Glob((string?)request["pattern"] ?? "*");
                selected = selected.Where(e => pattern.IsMatch(e.Input)).ToList();
                if ((bool?)request["unique"] == true)
                {
                    var seen = new HashSet<string>();
                    selected = selected.AsEnumerable().Reverse().Where(e => seen.Add(e.Input)).Reverse().ToList();
                }
                selected = TakeLast(selected, (int?)request["n"]);
                break;
            default:
                selected = [];
                break;
        }

        var history = new JsonArray();
        foreach (var e in selected)
            history.Add(new JsonArray(Session, e.Line, output ? new JsonArray(e.Input, e.Output) : JsonValue.Create(e.Input)));
        return history;
    }

    static List<(int, string, string?)> TakeLast(List<(int, string, string?)> list, int? n) =>
        n is > 0 ? list.Skip(Math.Max(0, list.Count - n.Value)).ToList() : list;

    /// <summary>IPython's search pattern is a glob: * and ? wildcards over the whole input.</summary>
    static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.Singleline);
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>Whether a finding is a credential or something about a person.</summary>
public enum SensitiveCategory
{
    /// <summary>A credential: anyone who reads it can act as its owner.</summary>
    Secret,
    /// <summary>Personal data: an e-mail address, a phone number, an IP address.</summary>
    Personal,
}

/// <summary>One shape the scanner looks for.</summary>
/// <param name="Name">What it is, as the report says it ("AWS access key").</param>
/// <param name="Category">Secret or personal data.</param>
/// <param name="Placeholder">What <c>--redact</c> puts in its place.</param>
public sealed record SensitiveKind(string Name, SensitiveCategory Category, string Placeholder);

/// <summary>One place where a text has something that looks like a secret or personal data.</summary>
/// <param name="Kind">What it looks like.</param>
/// <param name="Start">Offset in the text.</param>
/// <param name="Length">Length of the part that redaction replaces.</param>
/// <param name="Value">That part.</param>
public sealed record SensitiveMatch(SensitiveKind Kind, int Start, int Length, string Value);

/// <summary>
/// Finds well-known credential shapes (cloud and code-host tokens, API keys, private-key blocks, JWTs, passwords in
/// URLs, high-entropy values after words such as key/secret/token/password) and personal data (e-mail addresses,
/// phone numbers, IPv4 and IPv6 addresses) in text, and replaces them by placeholders. Regular expressions find the
/// shapes; checks after them set aside the usual look-alikes: documentation keys (…EXAMPLE), addresses at reserved
/// domains (example.com, .test, .invalid, .internal), <c>git@</c> remotes and <c>@2x.png</c> file names, loopback and mask
/// addresses, version numbers, dates and long digit runs such as card numbers, and placeholder values
/// (<c>YOUR_API_KEY</c>, <c>xxxx</c>, <c>${TOKEN}</c>).
/// </summary>
public static class SensitiveData
{
    /// <summary>Each regular expression gets this long per text; a field that takes longer is reported as unchecked.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public static readonly SensitiveKind AwsAccessKey = new("AWS access key", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind GitHubToken = new("GitHub token", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind GitLabToken = new("GitLab token", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind SlackToken = new("Slack token", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind SkApiKey = new("API key (sk-…, OpenAI/Anthropic style)", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind GoogleApiKey = new("Google API key", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind PrivateKey = new("private key block", SensitiveCategory.Secret, "<PRIVATE_KEY>");
    public static readonly SensitiveKind Jwt = new("JSON web token", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind UrlPassword = new("password in a URL", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind KeywordSecret = new("high-entropy value after key/secret/token/password", SensitiveCategory.Secret, "<SECRET>");
    public static readonly SensitiveKind Email = new("e-mail address", SensitiveCategory.Personal, "<EMAIL>");
    public static readonly SensitiveKind Phone = new("phone number", SensitiveCategory.Personal, "<PHONE>");
    public static readonly SensitiveKind IPv4 = new("IPv4 address", SensitiveCategory.Personal, "<IP_ADDRESS>");
    public static readonly SensitiveKind IPv6 = new("IPv6 address", SensitiveCategory.Personal, "<IP_ADDRESS>");

    /// <summary>A shape: its pattern, the group that is replaced (0 = the whole match), a check that sets look-alikes
    /// aside, and strings one of which every match contains (the pattern only runs on texts that have one: most texts
    /// have no '@' or "://", and a substring search is far cheaper than a regular expression).</summary>
    sealed record Detector(SensitiveKind Kind, Regex Pattern, int Group = 0, Func<Match, bool>? Accept = null, string[]? Hints = null, bool IgnoreCase = false)
    {
        public bool MayMatch(string text) => Hints is null ||
            Hints.Any(h => text.Contains(h, IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
    }

    static Regex R(string pattern, RegexOptions extra = RegexOptions.None) =>
        new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant | extra, Timeout);

    // In priority order: where two shapes overlap, the earlier one wins.
    static readonly Detector[] Detectors =
    [
        new(PrivateKey, R(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]{0,20000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)?"), Hints: ["-----BEGIN"]),
        new(AwsAccessKey, R(@"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), Accept: m => !m.Value.EndsWith("EXAMPLE", StringComparison.Ordinal),
            Hints: ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"]),
        new(GitHubToken, R(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b"), Hints: ["gh", "github_pat_"]),
        new(GitLabToken, R(@"\bglpat-[A-Za-z0-9_\-]{20,}"), Hints: ["glpat-"]),
        new(SlackToken, R(@"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), Hints: ["xox"]),
        new(GoogleApiKey, R(@"\bAIza[0-9A-Za-z_\-]{35}(?![\w\-])"), Hints: ["AIza"]),
        new(SkApiKey, R(@"(?<![\w\-])sk-(?:ant-(?:api\d+-)?|proj-)?[A-Za-z0-9_\-]{20,}"), Accept: m => m.Value.Skip(3).Any(char.IsDigit), Hints: ["sk-"]),
        new(Jwt, R(@"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), Hints: ["eyJ"]),
        new(UrlPassword, R(@"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s:/@""'<>]{1,100}:([^\s:/@""'<>]{1,200})@"), Group: 1,
            Accept: m => !IsPlaceholder(m.Groups[1].Value), Hints: ["://"]),
        new(KeywordSecret, R(@"\b(?:api[_\- ]?key|secret(?:[_\- ]?key)?|client[_\- ]?secret|access[_\- ]?(?:key|token)|auth[_\- ]?token|token|password|passwd|pwd)\b[""']?\s*(?:[:=]|=>|\bis\b)\s*[""']?([A-Za-z0-9+/_\-.=~!@#%^&*]{12,200})", RegexOptions.IgnoreCase),
            Group: 1, Accept: m => HighEntropy(m.Groups[1].Value), Hints: ["key", "secret", "token", "pass", "pwd"], IgnoreCase: true),
        new(Email, R(@"(?<![\w.%+\-])[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,24}\b"), Accept: m => RealEmail(m.Value), Hints: ["@"]),
        new(IPv4, R(@"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)"), Accept: m => RealIPv4(m), Hints: ["."]),
        new(IPv6, R(@"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"), Accept: m => RealIPv6(m.Value), Hints: [":"]),
        new(Phone, R(@"(?<![\w+.\-/])(?:\+[1-9]\d{0,2}[ .\-]?(?:\(?\d{1,4}\)?[ .\-]?){1,4}\d{2,4}|\(?\d{2,4}\)?[ .\-]\d{3,4}[ .\-]\d{3,4})(?![\w.\-/]|[ .\-]?\d)"),
            Accept: m => m.Value.Count(char.IsDigit) is >= 8 and <= 15),
    ];

    /// <summary>Every shape the scanner knows, in priority order.</summary>
    public static IReadOnlyList<SensitiveKind> Kinds { get; } = Detectors.Select(d => d.Kind).ToList();

    /// <summary>
    /// What <paramref name="text"/> holds, in order, without overlaps (where two shapes overlap, the one listed
    /// first in <see cref="Kinds"/> wins). Throws <see cref="RegexMatchTimeoutException"/> when a pattern takes longer
    /// than <see cref="Timeout"/> on the text.
    /// </summary>
    public static List<SensitiveMatch> Find(string text)
    {
        var all = new List<(int Priority, SensitiveMatch Match)>();
        for (int p = 0; p < Detectors.Length; p++)
        {
            var d = Detectors[p];
            if (!d.MayMatch(text)) continue;
            foreach (Match m in d.Pattern.Matches(text))
            {
                if (d.Accept is { } accept && !accept(m)) continue;
                var g = m.Groups[d.Group];
                all.Add((p, new SensitiveMatch(d.Kind, g.Index, g.Length, g.Value)));
            }
        }
        var kept = new List<SensitiveMatch>();
        foreach (var (_, m) in all.OrderBy(x => x.Priority))
            if (!kept.Any(k => m.Start < k.Start + k.Length && k.Start < m.Start + m.Length)) kept.Add(m);
        kept.Sort((a, b) => a.Start.CompareTo(b.Start));
        return kept;
    }

    /// <summary><paramref name="text"/> with each of <paramref name="matches"/> (from <see cref="Find"/>) replaced by its placeholder.</summary>
    public static string Redact(string text, IReadOnlyList<SensitiveMatch> matches)
    {
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int at = 0;
        foreach (var m in matches)
        {
            sb.Append(text, at, m.Start - at).Append(m.Kind.Placeholder);
            at = m.Start + m.Length;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>What a finding shows: personal data in full (the user must recognise it), a secret with its middle hidden
    /// so that the report does not spread it further.</summary>
    public static string Preview(SensitiveMatch m)
    {
        if (m.Kind.Category == SensitiveCategory.Personal) return m.Value;
        string v = m.Value.Split('\n')[0];
        return v.Length <= 12 ? new string('*', v.Length) : v[..6] + "…" + v[^4..] + $" ({m.Value.Length} chars)";
    }

    /// <summary>Bits per character of the value's character distribution (Shannon entropy).</summary>
    public static double Entropy(string value)
    {
        if (value.Length == 0) return 0;
        return value.GroupBy(c => c).Select(g => (double)g.Count() / value.Length).Sum(p => -p * Math.Log2(p));
    }

    /// <summary>Random-looking: at least 3 bits per character, with both letters and digits (placeholders such as
    /// YOUR_API_KEY_HERE have no digits; xxxxxxxx1 has no entropy).</summary>
    static bool HighEntropy(string value) =>
        Entropy(value) >= 3.0 && value.Any(char.IsLetter) && value.Any(char.IsDigit) && !IsPlaceholder(value);

    static bool IsPlaceholder(string value) =>
        Regex.IsMatch(value, @"^(?:\*+|x+|\.+|<.*>|\$.*|\{.*\}|%.*%|pass(?:word)?|pwd|secret|changeme|your[_\-]?\w*|redacted)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    static readonly string[] ReservedDomains = ["example.com", "example.org", "example.net"];
    static readonly string[] ReservedSuffixes = [".example", ".test", ".invalid", ".localhost", ".local", ".internal"];
    static readonly string[] FileSuffixes = [".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico"];

    static bool RealEmail(string value)
    {
        int at = value.LastIndexOf('@');
        string user = value[..at], domain = value[(at + 1)..].ToLowerInvariant();
        if (user == "git") return false;                                          // git@host:owner/repo remotes
        if (FileSuffixes.Any(s => domain.EndsWith(s, StringComparison.Ordinal))) return false;   // icon@2x.png
        return !ReservedDomains.Any(d => domain == d || domain.EndsWith("." + d, StringComparison.Ordinal))
            && !ReservedSuffixes.Any(s => domain.EndsWith(s, StringComparison.Ordinal));
    }

    static bool RealIPv4(Match m)
    {
        string v = m.Value;
        if (v.StartsWith("127.", StringComparison.Ordinal) || v.StartsWith("0.", StringComparison.Ordinal) || v.StartsWith("255.", StringComparison.Ordinal)) return false;
        // "v1.2.3.4", "version 1.2.3.4": a version number, not an address.
        int before = m.Index;
        var text = m.Result("$`");
        if (before > 0 && text[^1] is 'v' or 'V') return false;
        return !Regex.IsMatch(text, @"(?:version|release|v\.)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    static bool RealIPv6(string value)
    {
        int colons = value.Count(c => c == ':');
        bool compressed = value.Contains("::", StringComparison.Ordinal);
        if (colons < 7 && !compressed) return false;                  // 12:30:45 is a time
        if (value.Split(':').Count(g => g.Length > 0) < 2) return false;   // ::, ::1, fe80::
        if (!value.Any(char.IsDigit)) return false;                   // dead::beef reads like a word
        return IPAddress.TryParse(value, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 && !IPAddress.IsLoopback(ip);
    }
}

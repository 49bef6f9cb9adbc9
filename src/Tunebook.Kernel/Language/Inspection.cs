using System.Text;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Tunebook.Interactive;
using Tunebook.Kernel.Execution;

namespace Tunebook.Kernel.Language;

/// <summary>
/// inspect_request (Shift+Tab in Jupyter): the signature of the symbol at the cursor, its XML
/// documentation summary, and for a session variable its current value.
/// </summary>
public static class Inspection
{
    static readonly SymbolDisplayFormat Signature = SymbolDisplayFormat.CSharpErrorMessageFormat
        .WithMemberOptions(SymbolDisplayMemberOptions.IncludeParameters | SymbolDisplayMemberOptions.IncludeType |
                           SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeRef)
        .WithParameterOptions(SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName |
                              SymbolDisplayParameterOptions.IncludeDefaultValue | SymbolDisplayParameterOptions.IncludeParamsRefOut);

    /// <summary>The text/plain description, or null when nothing is at the cursor.</summary>
    public static string? Inspect(ScriptSession session, string code, int cursor, int detailLevel)
    {
        var (model, tree) = session.Analyze(CursorPosition.WithoutMagics(code));
        var root = tree.GetRoot();
        cursor = Math.Clamp(cursor, 0, code.Length);
        var token = root.FindToken(Math.Max(0, cursor - 1));
        if (!token.IsKind(SyntaxKind.IdentifierToken) && cursor < code.Length)
        {
            var next = root.FindToken(cursor);
            if (next.IsKind(SyntaxKind.IdentifierToken)) token = next;
        }
        if (token.Parent is null) return null;

        var symbols = new List<ISymbol>();
        for (var node = token.Parent; node is not null && symbols.Count == 0; node = node.Parent)
        {
            var info = model.GetSymbolInfo(node);
            if (info.Symbol is not null) symbols.Add(info.Symbol);
            else symbols.AddRange(info.CandidateSymbols);
            if (symbols.Count == 0 && model.GetDeclaredSymbol(node) is { } declared) symbols.Add(declared);
            if (node is StatementSyntax or MemberDeclarationSyntax) break;
        }
        if (symbols.Count == 0) return null;

        var text = new StringBuilder();
        foreach (var symbol in symbols.Take(12))
        {
            text.AppendLine(Describe(symbol));
            var summary = Summary(symbol, detailLevel);
            if (summary.Length > 0) text.AppendLine(summary);
            if (symbol is IFieldSymbol { ContainingType.IsScriptClass: true } or ILocalSymbol)
            {
                var value = session.GetVariable(symbol.Name);
                if (value is not null || symbol is IFieldSymbol)
                    text.AppendLine($"Value: {Truncate(Formatters.PlainText(value), 2000)}");
            }
            text.AppendLine();
        }
        if (symbols.Count > 12) text.AppendLine($"(+{symbols.Count - 12} more overloads)");
        return text.ToString().TrimEnd();
    }

    static string Describe(ISymbol symbol)
    {
        string kind = symbol switch
        {
            IMethodSymbol => "method", IPropertySymbol => "property", IFieldSymbol { ContainingType.IsScriptClass: true } => "variable",
            IFieldSymbol => "field", ILocalSymbol => "variable", IParameterSymbol => "parameter", IEventSymbol => "event",
            INamespaceSymbol => "namespace", INamedTypeSymbol t => t.TypeKind.ToString().ToLowerInvariant(), _ => symbol.Kind.ToString().ToLowerInvariant(),
        };
        string signature = symbol switch
        {
            IFieldSymbol { ContainingType.IsScriptClass: true } f => $"{f.Type.ToDisplayString()} {f.Name}",
            ILocalSymbol l => $"{l.Type.ToDisplayString()} {l.Name}",
            _ => symbol.ToDisplayString(Signature),
        };
        return $"{kind} {signature}";
    }

    /// <summary>The summary (and at detail level 1, parameters, returns and remarks) of the symbol's XML doc.</summary>
    static string Summary(ISymbol symbol, int detailLevel)
    {
        var xml = symbol.GetDocumentationCommentXml(expandIncludes: true);
        if (string.IsNullOrWhiteSpace(xml) && symbol is IMethodSymbol { ReducedFrom: { } reduced }) xml = reduced.GetDocumentationCommentXml();
        if (string.IsNullOrWhiteSpace(xml)) return "";
        try
        {
            var doc = XElement.Parse(xml);
            var parts = new List<string>();
            if (doc.Element("summary") is { } summary) parts.Add(Text(summary));
            if (detailLevel > 0)
            {
                foreach (var p in doc.Elements("param")) parts.Add($"  {p.Attribute("name")?.Value}: {Text(p)}");
                if (doc.Element("returns") is { } returns) parts.Add($"Returns: {Text(returns)}");
                if (doc.Element("remarks") is { } remarks) parts.Add(Text(remarks));
            }
            return string.Join("\n", parts.Where(p => p.Trim().Length > 0));
        }
        catch (System.Xml.XmlException) { return ""; }
    }

    /// <summary>Documentation text with &lt;see cref="T:System.String"/&gt; shown as "String".</summary>
    static string Text(XElement element)
    {
        var text = new StringBuilder();
        foreach (var node in element.Nodes())
        {
            if (node is XText t) text.Append(t.Value);
            else if (node is XElement e)
            {
                var cref = e.Attribute("cref")?.Value ?? e.Attribute("langword")?.Value ?? e.Attribute("name")?.Value;
                if (cref is not null && !e.Nodes().Any()) text.Append(cref.Contains(':') ? cref[(cref.IndexOf(':') + 1)..].Split('.').Last() : cref);
                else text.Append(Text(e));
            }
        }
        return string.Join(" ", text.ToString().Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}

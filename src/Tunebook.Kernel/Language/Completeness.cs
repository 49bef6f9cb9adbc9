using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Tunebook.Kernel.Language;

/// <summary>
/// is_complete_request for console front ends: "complete" runs, "incomplete" asks for another line
/// (with an indent that follows the open braces), "invalid" runs to show the error.
/// </summary>
public static class Completeness
{
    static readonly CSharpParseOptions Script = new(LanguageVersion.Preview, kind: SourceCodeKind.Script);

    public static (string Status, string Indent) Check(string code)
    {
        var csharp = CursorPosition.WithoutMagics(code);
        if (string.IsNullOrWhiteSpace(csharp)) return ("complete", "");
        var tree = CSharpSyntaxTree.ParseText(csharp, Script);
        if (!SyntaxFactory.IsCompleteSubmission(tree))
            return ("incomplete", new string(' ', 4 * Math.Max(0, OpenBraces(tree))));
        bool errors = tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
        return (errors ? "invalid" : "complete", "");
    }

    static int OpenBraces(SyntaxTree tree)
    {
        int depth = 0;
        foreach (var token in tree.GetRoot().DescendantTokens())
        {
            if (token.IsMissing) continue;
            if (token.IsKind(SyntaxKind.OpenBraceToken) || token.IsKind(SyntaxKind.OpenParenToken) || token.IsKind(SyntaxKind.OpenBracketToken)) depth++;
            else if (token.IsKind(SyntaxKind.CloseBraceToken) || token.IsKind(SyntaxKind.CloseParenToken) || token.IsKind(SyntaxKind.CloseBracketToken)) depth--;
        }
        return depth;
    }
}

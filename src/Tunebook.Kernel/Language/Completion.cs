using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Tunebook.Kernel.Execution;

namespace Tunebook.Kernel.Language;

/// <summary>One completion candidate: the text to insert and its kind ("function", "property", "class", ...).</summary>
public sealed record CompletionItem(string Text, string Kind);

/// <summary>The answer to a complete_request: candidates replacing code[Start..End] (UTF-16 indices).</summary>
public sealed record CompletionResult(IReadOnlyList<CompletionItem> Items, int Start, int End);

/// <summary>
/// Code completion from the session's own compilation: after "expr." the members of expr's type (or of
/// a type/namespace name), otherwise every symbol in scope at the cursor (variables of earlier cells,
/// types, namespaces) plus C# keywords, filtered by the identifier prefix being typed.
/// </summary>
public static class Completion
{
    public static CompletionResult Complete(ScriptSession session, string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        int start = cursor;
        while (start > 0 && (char.IsLetterOrDigit(code[start - 1]) || code[start - 1] == '_')) start--;
        int end = cursor;
        while (end < code.Length && (char.IsLetterOrDigit(code[end]) || code[end] == '_')) end++;
        var prefix = code[start..cursor];

        var (model, tree) = session.Analyze(CursorPosition.WithoutMagics(code));
        var root = tree.GetRoot();
        IEnumerable<ISymbol> symbols;
        bool members = false;
        int dot = start - 1;
        while (dot >= 0 && code[dot] is ' ' or '\t') dot--;
        if (dot >= 0 && code[dot] == '.' && root.FindToken(dot) is { RawKind: (int)SyntaxKind.DotToken } dotToken)
        {
            members = true;
            symbols = MemberSymbols(model, dotToken, start);
        }
        else if (start > 0 && InsideCommentOrString(root, start))
            return new CompletionResult([], start, end);
        else
            symbols = model.LookupSymbols(start);

        var items = new List<CompletionItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var symbol in symbols)
        {
            var name = symbol.Name;
            if (!SyntaxFacts.IsValidIdentifier(name) || name.StartsWith("Submission#", StringComparison.Ordinal) || name.StartsWith("__", StringComparison.Ordinal)) continue;
            if (symbol is IMethodSymbol { MethodKind: not (MethodKind.Ordinary or MethodKind.ReducedExtension or MethodKind.LocalFunction) }) continue;
            if (!name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
            if (!model.IsAccessible(start, symbol)) continue;
            if (seen.Add(name)) items.Add(new CompletionItem(name, Kind(symbol)));
        }
        if (!members)
            foreach (var kind in SyntaxFacts.GetKeywordKinds().Concat(SyntaxFacts.GetContextualKeywordKinds()))
            {
                var text = SyntaxFacts.GetText(kind);
                if (text.Length > 0 && text.StartsWith(prefix, StringComparison.Ordinal) && prefix.Length > 0 && seen.Add(text))
                    items.Add(new CompletionItem(text, "keyword"));
            }

        // Exact-case prefix matches first, then alphabetical, as editors list them.
        var ordered = items
            .OrderBy(i => i.Text.StartsWith(prefix, StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(i => i.Text, StringComparer.OrdinalIgnoreCase)
            .ToList();
        return new CompletionResult(ordered, start, end);
    }

    static IEnumerable<ISymbol> MemberSymbols(SemanticModel model, SyntaxToken dotToken, int position)
    {
        ExpressionSyntax? left = dotToken.Parent switch
        {
            MemberAccessExpressionSyntax ma => ma.Expression,
            QualifiedNameSyntax qn => qn.Left,
            MemberBindingExpressionSyntax mb => (mb.Parent?.Parent as ConditionalAccessExpressionSyntax)?.Expression
                ?? mb.FirstAncestorOrSelf<ConditionalAccessExpressionSyntax>()?.Expression,
            _ => null,
        };
        if (left is null) return [];
        var symbol = model.GetSymbolInfo(left).Symbol;
        if (symbol is INamespaceSymbol ns) return model.LookupNamespacesAndTypes(position, ns);
        // "Console." lists static members and nested types; "text." lists the members of the value's type.
        if (symbol is INamedTypeSymbol type) return model.LookupStaticMembers(position, type);
        var valueType = model.GetTypeInfo(left).Type;
        if (valueType is null || valueType.TypeKind == TypeKind.Error) return [];
        return model.LookupSymbols(position, valueType, includeReducedExtensionMethods: true).Where(s => !s.IsStatic || s is IMethodSymbol { MethodKind: MethodKind.ReducedExtension });
    }

    static bool InsideCommentOrString(SyntaxNode root, int position)
    {
        var trivia = root.FindTrivia(position - 1);
        if (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineCommentTrivia)) return true;
        var token = root.FindToken(position - 1);
        return token.IsKind(SyntaxKind.StringLiteralToken) && token.Span.Start < position && position < token.Span.End;
    }

    /// <summary>The kind names JupyterLab's completer shows (the _jupyter_types_experimental metadata).</summary>
    static string Kind(ISymbol symbol) => symbol switch
    {
        IMethodSymbol => "function",
        IPropertySymbol => "property",
        IFieldSymbol f when f.ContainingType?.IsScriptClass == true => "variable",
        IFieldSymbol => "field",
        ILocalSymbol or IParameterSymbol => "variable",
        IEventSymbol => "event",
        INamespaceSymbol => "module",
        INamedTypeSymbol { TypeKind: TypeKind.Interface } => "interface",
        INamedTypeSymbol { TypeKind: TypeKind.Enum } => "enum",
        INamedTypeSymbol { TypeKind: TypeKind.Struct } => "struct",
        INamedTypeSymbol => "class",
        _ => "text",
    };
}

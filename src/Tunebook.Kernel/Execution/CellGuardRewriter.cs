using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// Rewrites a compiled cell so that interrupt reaches plain user code: each loop body (while, do, for,
/// foreach, await foreach, in lambdas, local functions and iterators too) starts with
/// <c>CellGuard.Check()</c>, and each <c>await</c> of a Task or ValueTask awaits
/// <c>CellGuard.Cancellable(task)</c> instead, and the start of each <c>new Thread(...)</c> is wrapped by
/// <c>CellGuard.Contained</c> (an exception escaping a thread would end the process). Nothing else
/// changes, and no line break is added, so the
/// line numbers of stack traces stay those of the cell. Columns on a rewritten line do move, which is why
/// the session reports compile errors of the cell as written, and only runs the rewritten text.
/// </summary>
public sealed class CellGuardRewriter(SemanticModel model) : CSharpSyntaxRewriter
{
    const string Guard = "global::Tunebook.Kernel.Execution.CellGuard";

    /// <summary>True when the code has anything to rewrite (most cells have no loop and no await).</summary>
    public static bool Applies(SyntaxNode root) =>
        root.DescendantNodes().Any(n => n is WhileStatementSyntax or DoStatementSyntax or ForStatementSyntax
            or CommonForEachStatementSyntax or AwaitExpressionSyntax or BaseObjectCreationExpressionSyntax);

    /// <summary>The rewritten text of <paramref name="tree"/>, whose semantic model is the rewriter's.</summary>
    public static string Rewrite(SyntaxTree tree, SemanticModel model) =>
        new CellGuardRewriter(model).Visit(tree.GetRoot()).ToFullString();

    public override SyntaxNode? VisitWhileStatement(WhileStatementSyntax node)
    {
        var n = (WhileStatementSyntax)base.VisitWhileStatement(node)!;
        return n.WithStatement(Guarded(n.Statement));
    }

    public override SyntaxNode? VisitDoStatement(DoStatementSyntax node)
    {
        var n = (DoStatementSyntax)base.VisitDoStatement(node)!;
        return n.WithStatement(Guarded(n.Statement));
    }

    public override SyntaxNode? VisitForStatement(ForStatementSyntax node)
    {
        var n = (ForStatementSyntax)base.VisitForStatement(node)!;
        return n.WithStatement(Guarded(n.Statement));
    }

    public override SyntaxNode? VisitForEachStatement(ForEachStatementSyntax node)
    {
        var n = (ForEachStatementSyntax)base.VisitForEachStatement(node)!;
        return n.WithStatement(Guarded(n.Statement));
    }

    public override SyntaxNode? VisitForEachVariableStatement(ForEachVariableStatementSyntax node)
    {
        var n = (ForEachVariableStatementSyntax)base.VisitForEachVariableStatement(node)!;
        return n.WithStatement(Guarded(n.Statement));
    }

    public override SyntaxNode? VisitAwaitExpression(AwaitExpressionSyntax node)
    {
        var rewritten = (AwaitExpressionSyntax)base.VisitAwaitExpression(node)!;
        if (!IsTaskLike(model.GetTypeInfo(node.Expression).Type)) return rewritten;
        var inner = rewritten.Expression;
        var call = SyntaxFactory.ParseExpression($"{Guard}.Cancellable()");
        var invocation = ((InvocationExpressionSyntax)call).WithArgumentList(
            SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(inner.WithoutTrivia()))));
        return rewritten.WithExpression(invocation.WithLeadingTrivia(inner.GetLeadingTrivia()).WithTrailingTrivia(inner.GetTrailingTrivia()));
    }

    public override SyntaxNode? VisitObjectCreationExpression(ObjectCreationExpressionSyntax node) =>
        ContainThreadStart(node, (BaseObjectCreationExpressionSyntax)base.VisitObjectCreationExpression(node)!);

    public override SyntaxNode? VisitImplicitObjectCreationExpression(ImplicitObjectCreationExpressionSyntax node) =>
        ContainThreadStart(node, (BaseObjectCreationExpressionSyntax)base.VisitImplicitObjectCreationExpression(node)!);

    /// <summary>new Thread(start) becomes new Thread(CellGuard.Contained((ThreadStart)(start))).</summary>
    SyntaxNode ContainThreadStart(BaseObjectCreationExpressionSyntax original, BaseObjectCreationExpressionSyntax rewritten)
    {
        if (model.GetSymbolInfo(original).Symbol is not IMethodSymbol { MethodKind: MethodKind.Constructor } constructor
            || constructor.ContainingType.ToDisplayString() != "System.Threading.Thread"
            || constructor.Parameters.Length == 0
            || constructor.Parameters[0].Type.ToDisplayString() is not ("System.Threading.ThreadStart" or "System.Threading.ParameterizedThreadStart")
            || rewritten.ArgumentList is not { Arguments.Count: > 0 } arguments
            || arguments.Arguments[0].NameColon is not null)
            return rewritten;
        var delegateType = constructor.Parameters[0].Type.ToDisplayString();
        var start = arguments.Arguments[0];
        var wrapped = SyntaxFactory.ParseExpression($"{Guard}.Contained((global::{delegateType})({start.Expression.WithoutTrivia().ToFullString()}))");
        var argument = start.WithExpression(wrapped.WithLeadingTrivia(start.Expression.GetLeadingTrivia()).WithTrailingTrivia(start.Expression.GetTrailingTrivia()));
        return rewritten.WithArgumentList(arguments.WithArguments(arguments.Arguments.Replace(start, argument)));
    }

    static bool IsTaskLike(ITypeSymbol? type) =>
        type?.OriginalDefinition.ToDisplayString() is "System.Threading.Tasks.Task" or "System.Threading.Tasks.Task<TResult>"
            or "System.Threading.Tasks.ValueTask" or "System.Threading.Tasks.ValueTask<TResult>";

    /// <summary>
    /// The body with a check in front, on the line where the body starts: "{" keeps its line and the check
    /// follows it directly; a single statement becomes a block on its own line.
    /// </summary>
    static StatementSyntax Guarded(StatementSyntax body)
    {
        var check = SyntaxFactory.ParseStatement($"{Guard}.Check();");
        if (body is BlockSyntax block)
        {
            var open = block.OpenBraceToken;
            return block
                .WithOpenBraceToken(open.WithTrailingTrivia(SyntaxFactory.Space))
                .WithStatements(block.Statements.Insert(0, check.WithTrailingTrivia(open.TrailingTrivia)));
        }
        return SyntaxFactory.Block(
                SyntaxFactory.Token(SyntaxKind.OpenBraceToken).WithLeadingTrivia(body.GetLeadingTrivia()).WithTrailingTrivia(SyntaxFactory.Space),
                SyntaxFactory.List(new[] { check.WithTrailingTrivia(SyntaxFactory.Space), body.WithoutLeadingTrivia().WithoutTrailingTrivia() }),
                SyntaxFactory.Token(SyntaxKind.CloseBraceToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(body.GetTrailingTrivia()));
    }
}

namespace Tunebook.Text.Templates;

// The syntax tree of a template. Every node remembers where it starts in the source so that runtime errors
// can point at the line and column that failed.

abstract record Node(SourcePos Pos);

sealed record ProgramNode(List<Node> Body) : Node(new SourcePos(0));
sealed record IfNode(SourcePos P, Node Test, List<Node> Body, List<Node> Alternate) : Node(P);
sealed record ForNode(SourcePos P, Node LoopVar, Node Iterable, List<Node> Body, List<Node> DefaultBlock) : Node(P);
sealed record BreakNode(SourcePos P) : Node(P);
sealed record ContinueNode(SourcePos P) : Node(P);
sealed record SetNode(SourcePos P, Node Assignee, Node? Value, List<Node> Body) : Node(P);
sealed record MacroNode(SourcePos P, IdentifierNode Name, List<Node> Args, List<Node> Body) : Node(P);
sealed record CommentNode(SourcePos P) : Node(P);
sealed record CallStatementNode(SourcePos P, CallNode Call, List<Node>? CallerArgs, List<Node> Body) : Node(P);
sealed record FilterStatementNode(SourcePos P, Node Filter, List<Node> Body) : Node(P);

sealed record MemberNode(SourcePos P, Node Object, Node Property, bool Computed) : Node(P);
sealed record CallNode(SourcePos P, Node Callee, List<Node> Args) : Node(P);
sealed record IdentifierNode(SourcePos P, string Name) : Node(P);
sealed record IntegerLiteralNode(SourcePos P, double Value) : Node(P);
sealed record FloatLiteralNode(SourcePos P, double Value) : Node(P);
sealed record StringLiteralNode(SourcePos P, string Value) : Node(P);
sealed record ArrayLiteralNode(SourcePos P, List<Node> Items) : Node(P);
sealed record TupleLiteralNode(SourcePos P, List<Node> Items) : Node(P);
sealed record ObjectLiteralNode(SourcePos P, List<(Node Key, Node Value)> Entries) : Node(P);
sealed record BinaryNode(SourcePos P, string Operator, Node Left, Node Right) : Node(P);
/// <summary><c>operand | filter</c>; Filter is an IdentifierNode or a CallNode whose callee is one.</summary>
sealed record FilterNode(SourcePos P, Node Operand, Node Filter) : Node(P);
/// <summary><c>lhs if test</c> without an else: undefined when the test fails (also the filter of a for loop).</summary>
sealed record SelectNode(SourcePos P, Node Lhs, Node Test) : Node(P);
/// <summary><c>operand is [not] name</c>; Args holds the arguments of tests such as <c>divisibleby(3)</c>.</summary>
sealed record TestNode(SourcePos P, Node Operand, bool Negate, IdentifierNode Test, List<Node>? Args) : Node(P);
sealed record UnaryNode(SourcePos P, string Operator, Node Argument) : Node(P);
sealed record SliceNode(SourcePos P, Node? Start, Node? Stop, Node? Step) : Node(P);
sealed record KeywordArgumentNode(SourcePos P, IdentifierNode Key, Node Value) : Node(P);
sealed record SpreadNode(SourcePos P, Node Argument) : Node(P);
sealed record KeywordSpreadNode(SourcePos P, Node Argument) : Node(P);
sealed record TernaryNode(SourcePos P, Node Condition, Node TrueExpr, Node FalseExpr) : Node(P);

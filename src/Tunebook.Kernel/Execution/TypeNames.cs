using System.Text;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// The C# spelling of a runtime type, for declarations the kernel generates (SetVariable):
/// global::Namespace.Outer.Inner&lt;global::System.Int32&gt;, arrays, nullable values. Types a cell cannot
/// name (non-public, anonymous, compiler-generated) fall back to their closest nameable base type.
/// </summary>
public static class TypeNames
{
    public static string CSharpName(Type type)
    {
        var t = type;
        while (t is not null && !IsNameable(t)) t = t.BaseType;
        if (t is null) return "object";
        return Name(t);
    }

    static bool IsNameable(Type t)
    {
        if (t.IsPointer || t.IsByRef || t.IsByRefLike) return false;
        if (t.IsArray) return IsNameable(t.GetElementType()!);
        if (t.IsGenericParameter) return false;
        if (t.Name.Contains('<') || t.Name.Contains('#') && !IsScriptType(t)) return false;
        if (IsScriptType(t)) return t.IsNestedPublic || t.IsPublic;
        for (var d = t; d is not null; d = d.DeclaringType)
            if (!(d.IsPublic || d.IsNestedPublic)) return false;
        return !t.IsGenericType || t.GetGenericArguments().All(IsNameable);
    }

    // Types a cell declares are nested in the Roslyn submission class ("Submission#3"); later cells name them plainly.
    static bool IsScriptType(Type t) => t.DeclaringType?.Name.StartsWith("Submission#", StringComparison.Ordinal) == true;

    static string Name(Type t)
    {
        if (t.IsArray) return Name(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        var underlying = Nullable.GetUnderlyingType(t);
        if (underlying is not null) return Name(underlying) + "?";
        var keyword = Keyword(t);
        if (keyword is not null) return keyword;
        if (IsScriptType(t)) return Simple(t.Name) + Args(t, t.GetGenericArguments().Skip(t.DeclaringType!.GetGenericArguments().Length));

        var allArgs = t.GetGenericArguments();
        var chain = new List<Type>();
        for (var d = t; d is not null; d = d.DeclaringType) chain.Insert(0, d);
        var text = new StringBuilder("global::");
        if (!string.IsNullOrEmpty(chain[0].Namespace)) text.Append(chain[0].Namespace).Append('.');
        int used = 0;
        for (int i = 0; i < chain.Count; i++)
        {
            if (i > 0) text.Append('.');
            int count = chain[i].GetGenericArguments().Length - used;
            text.Append(Simple(chain[i].Name));
            if (count > 0)
            {
                text.Append('<').Append(string.Join(", ", allArgs.Skip(used).Take(count).Select(Name))).Append('>');
                used += count;
            }
        }
        return text.ToString();
    }

    static string Args(Type t, IEnumerable<Type> args)
    {
        var list = args.ToList();
        return list.Count == 0 ? "" : "<" + string.Join(", ", list.Select(Name)) + ">";
    }

    static string Simple(string name) { int tick = name.IndexOf('`'); return tick < 0 ? name : name[..tick]; }

    static string? Keyword(Type t) => t.IsEnum ? null : Type.GetTypeCode(t) switch
    {
        _ when t == typeof(object) => "object",
        _ when t == typeof(void) => "void",
        TypeCode.Boolean => "bool", TypeCode.Byte => "byte", TypeCode.SByte => "sbyte", TypeCode.Char => "char",
        TypeCode.Int16 => "short", TypeCode.UInt16 => "ushort", TypeCode.Int32 => "int", TypeCode.UInt32 => "uint",
        TypeCode.Int64 => "long", TypeCode.UInt64 => "ulong", TypeCode.Single => "float", TypeCode.Double => "double",
        TypeCode.Decimal => "decimal", TypeCode.String => "string",
        _ => null,
    };
}

namespace Tunebook.Tuning;

/// <summary>Shape formatting for error messages: [2, 3, 4].</summary>
static class ShapeText
{
    public static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}

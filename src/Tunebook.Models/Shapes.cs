namespace Tunebook.Models;

/// <summary>Shape formatting for error messages: [2, 3, 4].</summary>
static class Shapes
{
    public static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tunebook.Tests;

/// <summary>
/// Test projects run with System.Text.Json's reflection off by default (tests/Directory.Build.props), as
/// file-based apps do, so any library code that still needs reflection fails a test. Test code that
/// builds or reads ad-hoc JSON (anonymous request objects, reference answers) opts back in through these
/// options explicitly.
/// </summary>
internal static class TestJson
{
    public static JsonSerializerOptions Options { get; } = new() { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
}

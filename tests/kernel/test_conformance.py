"""The Jupyter kernel conformance suite (jupyter_kernel_test) against the installed `tunebook` kernel.

Every optional sample the suite knows is filled in, so each protocol feature is exercised:
stdout/stderr streams, completion, is_complete, errors, execute_result, display_data, history,
inspection and clear_output. (The pager test does not apply: C# has no `?` help syntax.)
"""
import unittest

import jupyter_kernel_test


class TunebookKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "tunebook"
    language_name = "csharp"
    file_extension = ".cs"

    code_hello_world = 'Console.WriteLine("hello, world");'
    code_stderr = 'Console.Error.WriteLine("something went wrong");'

    completion_samples = [
        {"text": "Console.WriteLi", "matches": {"WriteLine"}},
        {"text": "var zebraCount = 3;\nzebraCo", "matches": {"zebraCount"}},
        {"text": "\"text\".ToUpperInv", "matches": {"ToUpperInvariant"}},
        {"text": "System.Collections.Generic.Dictiona", "matches": {"Dictionary"}},
    ]

    complete_code_samples = [
        "1 + 1",
        "var x = 1;",
        "for (int i = 0; i < 3; i++) { Console.WriteLine(i); }",
        "class Point { public int X; }",
        "#!time\nvar y = 2;",
    ]
    incomplete_code_samples = [
        "for (int i = 0; i < 3; i++) {",
        "class Point {",
        "var list = new List<int> {",
        "Console.WriteLine(",
    ]
    invalid_code_samples = [
        "var x = ;",
        "int 3 = 4;",
    ]

    code_generate_error = 'throw new InvalidOperationException("this cell fails on purpose");'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "\"con\" + \"cat\"", "result": "concat"},
        {"code": "new MimeBundle(\"plain\").With(\"text/html\", \"<b>rich</b>\")", "mime": "text/html", "result": "<b>rich</b>"},
        {"code": "new MimeBundle(\"json\").With(\"application/json\", \"{\\\"a\\\": 1}\")", "mime": "application/json", "result": {"a": 1}},
    ]

    code_display_data = [
        {"code": "display(new MimeBundle(\"plain\").With(\"text/html\", \"<b>bold</b>\"));", "mime": "text/html"},
        {"code": "display(42);", "mime": "text/plain"},
    ]

    code_history_pattern = "6 * *"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Console.WriteLine"

    code_clear_output = "ClearOutput();"


if __name__ == "__main__":
    unittest.main()

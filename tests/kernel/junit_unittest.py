"""Runs unittest test modules and writes the results as JUnit XML (pytest is not required).

Usage: junit_unittest.py --output results.xml test_file.py [...]
Exits non-zero when a test fails or errors. Failed subtests fail their test.
"""
import argparse
import importlib.util
import pathlib
import sys
import time
import traceback
import unittest
import xml.etree.ElementTree as ET


class JUnitResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = {}  # test id -> dict(status, message, time)
        self._started = {}

    def _case(self, test):
        return self.cases.setdefault(test.id(), {"status": "passed", "message": "", "time": 0.0})

    def startTest(self, test):
        self._started[test.id()] = time.monotonic()
        self._case(test)
        super().startTest(test)

    def stopTest(self, test):
        self._case(test)["time"] = time.monotonic() - self._started.get(test.id(), time.monotonic())
        super().stopTest(test)

    def _fail(self, test, kind, err):
        case = self._case(test)
        if case["status"] in ("passed", "skipped"):
            case["status"] = kind
        case["message"] += "".join(traceback.format_exception(*err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, "failure", err)

    def addError(self, test, err):
        super().addError(test, err)
        # setUpClass errors arrive with a _ErrorHolder "test"
        self._fail(test, "error", err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            if issubclass(err[0], unittest.SkipTest):
                return
            self._fail(test, "failure" if issubclass(err[0], test.failureException) else "error", err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        case = self._case(test)
        if case["status"] == "passed":
            case["status"] = "skipped"
            case["message"] = reason


def load(path):
    spec = importlib.util.spec_from_file_location(pathlib.Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return unittest.defaultTestLoader.loadTestsFromModule(module)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", required=True)
    parser.add_argument("--suite-name", default="kernel-conformance")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    suite = unittest.TestSuite(load(f) for f in args.files)
    runner = unittest.TextTestRunner(resultclass=JUnitResult, verbosity=2)
    result = runner.run(suite)

    root = ET.Element("testsuites")
    counts = {k: sum(1 for c in result.cases.values() if c["status"] == k) for k in ("failure", "error", "skipped")}
    xml_suite = ET.SubElement(root, "testsuite", name=args.suite_name, tests=str(len(result.cases)),
                              failures=str(counts["failure"]), errors=str(counts["error"]), skipped=str(counts["skipped"]))
    for test_id, case in sorted(result.cases.items()):
        classname, _, name = test_id.rpartition(".")
        element = ET.SubElement(xml_suite, "testcase", classname=classname, name=name, time=f"{case['time']:.3f}")
        if case["status"] in ("failure", "error"):
            ET.SubElement(element, case["status"], message=case["message"].strip().splitlines()[-1][:500] if case["message"] else "").text = case["message"]
        elif case["status"] == "skipped":
            ET.SubElement(element, "skipped", message=case["message"])
    out = pathlib.Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(out)
    sys.exit(0 if counts["failure"] == 0 and counts["error"] == 0 and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()

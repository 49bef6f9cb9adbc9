#!/usr/bin/env python3
"""Reference CSV reader (Python's csv module, RFC 4180 quoting) for the sample-dataset tests.

Usage: StarterCsvReference.py FILE
Prints a JSON list with one object per record: {"line": the line the record starts on, "fields": [...]}.
"""
import csv
import json
import sys

records = []
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    start = 1
    for fields in reader:
        records.append({"line": start, "fields": fields})
        start = reader.line_num + 1
json.dump(records, sys.stdout, ensure_ascii=False)

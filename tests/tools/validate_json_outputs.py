#!/usr/bin/env python3
"""Validates constrained generations against their JSON schemas with an
independent validator (python3-jsonschema), for src/scheduler/structured_output_test.cpp.

Input: a JSON Lines file of {"schema": ..., "output": "..."}; prints one line
per failure and a summary; exit status 0 only when every output parses as JSON
and validates against its schema."""
import json
import sys

import jsonschema


def main(path):
    total = failed = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            total += 1
            try:
                value = json.loads(case["output"])
                validator = jsonschema.validators.validator_for(case["schema"], default=jsonschema.Draft202012Validator)
                validator(case["schema"]).validate(value)
            except (ValueError, jsonschema.ValidationError) as e:
                failed += 1
                print(f"INVALID: {case['output']!r}: {str(e).splitlines()[0]}")
    print(f"{total - failed}/{total} outputs valid")
    return 0 if failed == 0 and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

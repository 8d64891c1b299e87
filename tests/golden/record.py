"""Re-record the expected files of the golden cases from the current code.

    .venv/bin/python tests/golden/record.py            # every case
    .venv/bin/python tests/golden/record.py tech-outage  # only the named cases

Runs each case exactly as tests/drills/test_golden.py does (its `run_case`, through the CLI)
and rewrites the case's expected-* files, then prints which of them changed. Only re-record
when a change of behaviour is intended, and say in the commit which one; a restructuring must
leave every file unchanged.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType

TEST_MODULE = Path(__file__).resolve().parents[1] / "drills" / "test_golden.py"


def _golden_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("test_golden", TEST_MODULE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["test_golden"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    """Re-record the named cases (all when none is named); 2 if a name is not a case."""
    golden = _golden_module()
    cases: list[Path] = golden.case_dirs()
    known = {case.name: case for case in cases}
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"not a golden case: {', '.join(unknown)}; cases: {', '.join(known)}")
        return 2
    run_case = golden.run_case
    with tempfile.TemporaryDirectory(prefix="golden-record-") as scratch:
        for case in [known[n] for n in names] if names else cases:
            outcome = run_case(case, Path(scratch) / case.name)
            if not golden.is_failure_case(case) and outcome.exit_code != 0:
                print(f"{case.name}: replay exited {outcome.exit_code}, nothing recorded:")
                print(outcome.stderr.decode(errors="replace"))
                return 1
            for name, data in sorted(outcome.files.items()):
                path = case / name
                before = path.read_bytes() if path.exists() else None
                path.write_bytes(data)
                state = "new" if before is None else "changed" if before != data else "same"
                print(f"{state:8} {case.name}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Repository root conftest. The stackharness plugin is loaded through its `pytest11` entry point;
this file only keeps pytest from collecting data and generated folders when run from the root."""

collect_ignore = ["fixtures", "reports", "benchmarks", "examples", "docs"]

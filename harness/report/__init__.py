"""Reports: drift.json, the self-contained HTML drift report (and later history, Allure, JUnit)."""

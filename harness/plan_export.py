"""`stackharness run --drift`: refresh-only plans exported as JSON for the drift suite.

Each instance runs `terraform plan -refresh-only -out=stackharness-drift.tfplan`, then
`terraform show -json` of that plan is written to `DIR/<instance id>.json` — the file contract of
`pytest suites --plan-json-dir DIR` (see `harness.drift.plan`). Users with every provider
installed get full-coverage drift through the same suppressions and reports.
"""

from __future__ import annotations

from pathlib import Path

from harness.drift.plan import PlanError, plan_file, read_plan
from harness.errors import UsageError
from harness.runner import Command, InstanceWork, Step, StepFailed

PLAN_FILE = "stackharness-drift.tfplan"


def drift_command(command: Command) -> Command:
    """The run's command as a refresh-only plan saved to `PLAN_FILE` (`--drift` needs `terraform plan`)."""
    if command.subcommand != "plan":
        raise UsageError("--drift runs `terraform plan -refresh-only`",
                         hint="use `stackharness run --drift -- terraform plan -refresh-only`")
    args = [a for a in command.terraform[1:] if not a.startswith("-out")]
    if "-refresh-only" not in args:
        args.insert(0, "-refresh-only")
    return Command(terraform=("plan", *args, f"-out={PLAN_FILE}"), binary=command.binary)


class ExportPlanJson:
    """Post step: `terraform show -json` of the saved plan into `directory/<instance id>.json`."""

    def __init__(self, directory: Path, binary: str = "terraform") -> None:
        self.directory = directory
        self.binary = binary

    def __call__(self, work: InstanceWork) -> None:
        target = plan_file(self.directory, work.instance.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.tmp")
        with partial.open("wb") as out:
            code = work.run(Step("show", (self.binary, "show", "-json", PLAN_FILE)), stdout=out)
        if code != 0:
            partial.unlink(missing_ok=True)
            raise StepFailed(f"terraform show -json {PLAN_FILE} exited {code}")
        partial.replace(target)
        try:
            read_plan(target)
        except PlanError as exc:
            raise StepFailed(str(exc)) from None

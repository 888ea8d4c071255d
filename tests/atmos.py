"""The atmos.yaml of the small repositories the tests build, in one place."""

from __future__ import annotations


def atmos_yaml(*, name_pattern: str | None = None, name_template: str | None = None,
               exclude_defaults: bool = True, extra: str = "") -> str:
    """Stacks under `stacks/deploy/`, components under `components/terraform/`, named by a pattern or template.

    `exclude_defaults` leaves `_defaults.yaml` files out of the stacks (they are imported); `extra`
    is appended verbatim (more top-level settings).
    """
    lines = ['base_path: "."', "components:", "  terraform:", "    base_path: components/terraform",
             "stacks:", "  base_path: stacks", '  included_paths: ["deploy/**/*"]']
    if exclude_defaults:
        lines.append('  excluded_paths: ["**/_defaults.yaml"]')
    if name_pattern:
        lines.append(f'  name_pattern: "{name_pattern}"')
    if name_template:
        lines.append(f'  name_template: "{name_template}"')
    return "\n".join(lines) + "\n" + extra

#!/usr/bin/env python3
"""Checks the module layering of src/ against the table in docs/architecture.md.

Every `#include "<module>/..."` in src/<m>/ must name <m> itself, core, config (not from core)
or a module listed for <m> in the "Layering" table; every third-party header must be included
only by the one module that owns its library. Prints each violation as file:line and exits 1
when there is any, so `make test` (ctest's `layering` test) fails on a stray include.

Usage: check_layering.py [ROOT]   (ROOT holds src/ and docs/architecture.md; default: repo)
"""
import pathlib
import re
import sys

# Third-party header prefixes and the one module that may include each (docs/architecture.md).
OWNERS = {
    "duckdb.h": "db",
    "sqlite3.h": "metastore",
    "libpq-fe.h": "metastore",
    "xgboost/": "xgb",
    "nlohmann/": "core",
    "openssl/": "core",
    "yaml-cpp/": "config",
    "CLI/": "cli",
    "boost/": "serving",
    "spdlog/": "core",
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def read_table(doc: pathlib.Path) -> dict:
    """The Layering table: module -> set of modules it may include besides core and config."""
    allowed = {}
    in_section = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_section = line.strip() == "## Layering"
            continue
        if not in_section or not line.startswith("|"):
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("module", "") or set(cells[0]) <= set("-: "):
            continue
        deps = {d.strip().strip("`") for d in cells[1].split(",")}
        allowed[cells[0]] = {d for d in deps if d and d not in ("—", "-")}
    return allowed


def check(root: pathlib.Path) -> list:
    doc = root / "docs" / "architecture.md"
    allowed = read_table(doc)
    if not allowed:
        return [f"{doc}: no '## Layering' table found"]
    problems = []
    src = root / "src"
    modules = sorted(p.name for p in src.iterdir() if p.is_dir())
    for module in modules:
        if module not in allowed:
            problems.append(f"src/{module}: module missing from the Layering table of {doc.name}")
            continue
        may = allowed[module] | {module, "core"}
        if module != "core":
            may.add("config")
        for path in sorted((src / module).rglob("*")):
            if path.suffix not in (".h", ".cc", ".hpp", ".cpp"):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, header = m.groups()
                where = f"{path.relative_to(root)}:{n}"
                if kind == '"':
                    target = header.split("/", 1)[0] if "/" in header else module
                    if target in modules and target not in may:
                        problems.append(f"{where}: {module} may not include {header} "
                                        f"({target} is not in its row of the Layering table)")
                    continue
                for prefix, owner in OWNERS.items():
                    if header.startswith(prefix) and module != owner:
                        problems.append(f"{where}: <{header}> belongs to {owner}; "
                                        f"{module} must go through {owner}'s headers")
    return problems


def main() -> int:
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parents[1]
    problems = check(root.resolve())
    for p in problems:
        print(p)
    if problems:
        print(f"layering: {len(problems)} violation(s)")
        return 1
    print("layering: every include follows docs/architecture.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

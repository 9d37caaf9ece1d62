"""The validation rules reference, generated from the rules themselves (`python -m bir.api.rulesdoc`).

A test checks that `site/docs/reference/rules.md` equals this output, so the documentation cannot drift.
"""

from __future__ import annotations

import inspect

from bir.check.rules import RULES

# Problems found before a record exists (reading, parsing, schema): documented here, raised in
# bir/check/checker.py, bir/read/yamlstrict.py and bir/read/schemas.py.
LOADER_RULES: tuple[tuple[str, str, str], ...] = (
    ("file.symlink", "error", "A symbolic link in the register: reported, never followed."),
    ("file.hidden", "warning", "A hidden file or folder in the register: not read."),
    ("file.extension", "error", "A file in a kind folder that is not a `.yaml` record (`.yml` included)."),
    ("file.location", "error", "A file directly under `registry/`, a sub-folder of a kind folder, or no `registry/`."),
    ("file.unknown-kind", "error", "A folder under `registry/` that is not a kind."),
    ("file.not-regular", "error", "A device, socket or pipe where a record should be."),
    ("file.unreadable", "error", "A file that cannot be read (permissions)."),
    ("yaml.too-large", "error", "A file over 1,000,000 bytes, refused before it is read."),
    ("yaml.encoding", "error", "A file that is not UTF-8 (UTF-16 included)."),
    ("yaml.syntax", "error", "Invalid YAML, or control characters."),
    ("yaml.empty", "error", "A file without a YAML document."),
    ("yaml.multi-document", "error", "More than one YAML document (`---`) in a file."),
    ("yaml.duplicate-key", "error", "The same key twice in a mapping; the message names both lines."),
    ("yaml.anchor", "error", "An anchor (`&name`): records do not share parts."),
    ("yaml.alias", "error", "An alias (`*name`)."),
    ("yaml.merge-key", "error", "A merge key (`<<`)."),
    ("yaml.tag", "error", "An explicit tag (`!tag`, `!!python/...`)."),
    ("yaml.key-type", "error", "A list or mapping used as a key."),
    ("yaml.too-deep", "error", "Nesting deeper than 24 levels, refused before the document is built."),
    ("schema.type", "error", "A value of the wrong type; for YAML 1.1 look-alikes (`no`, `1.10`, `0777`) the hint says to quote or unquote."),
    ("schema.required", "error", "A required field is missing."),
    ("schema.unknown-field", "error", "A field the schema does not define (with a did-you-mean)."),
    ("schema.enum", "error", "A value outside the allowed list (with a did-you-mean)."),
    ("schema.const", "error", "A value that must be fixed (`kind`)."),
    ("schema.pattern", "error", "Text that does not have the expected form (ids, dates, currencies)."),
    ("schema.range", "error", "A number, length or count outside its bounds."),
)


def render() -> str:
    lines = [
        "# Validation rules",
        "",
        "Every problem `bir validate` reports names one of these rules. This page is generated from the rules",
        "themselves (`python -m bir.api.rulesdoc`).",
        "",
        "## Reading, parsing and schema",
        "",
        "| rule | severity | what it finds |",
        "|---|---|---|",
    ]
    lines += [f"| `{rid}` | {sev} | {text} |" for rid, sev, text in LOADER_RULES]
    lines += ["", "## Record and register rules", ""]
    for rule in sorted(RULES, key=lambda r: r.id):
        scope = "each record" if rule.record_check is not None else "the whole register"
        lines += [f"### `{rule.id}`", "", f"*{rule.severity.value}*, checked on {scope}: {rule.summary}.", ""]
        doc = inspect.cleandoc(rule.doc)
        for para in doc.split("\n\n"):
            if para.lstrip().startswith(("Passes:", "Fails:")):
                for line in para.splitlines():
                    head, _, rest = line.strip().partition(":")
                    lines.append(f"- **{head}**: {rest.strip()}")
            else:
                lines.append(" ".join(para.split()))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")

"""``python -m va_platform.provider.reference``: docs/provider-reference.md, every input and
output of the component provider, generated from its schema (so from the Python classes);
``make schema`` writes it and a test fails while the committed file differs."""

import sys
from typing import Any

from va_platform.provider.host import VaComponentProvider

INTRO = """\
# The VA components from other languages: input reference

Generated from the component provider's schema (`make schema`; do not edit). How a program in
TypeScript, YAML or another language adds the package: [other-languages.md](other-languages.md).
Input and output names are as in TypeScript and YAML (camelCase); Python programs use the
library itself ([library.md](library.md)). *plain*: a value the program knows when it runs (not
another resource's output), as the Python spec requires.
"""


def type_text(prop: dict[str, Any]) -> str:
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        name = ref.rsplit(":", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if ref == "pulumi.json#/Archive":
        return "Archive"
    if ref == "pulumi.json#/Any":
        return "any"
    kind = prop.get("type", "")
    if kind == "array":
        return f"list of {type_text(prop['items'])}"
    if kind == "object" and "additionalProperties" in prop:
        return f"map of {type_text(prop['additionalProperties'])}"
    return kind


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rows(props: dict[str, Any], required: list[str], plain_column: bool = True) -> list[str]:
    head = (
        "| Input | Type | Required | Description |"
        if plain_column
        else "| Output | Type | Description |"
    )
    lines = [head, "|---|---|---|---|" if plain_column else "|---|---|---|"]
    for name in sorted(props, key=lambda n: (n not in required, n)):
        prop = props[name]
        kind = type_text(prop) + (", plain" if prop.get("plain") and plain_column else "")
        text = cell(prop.get("description", ""))
        if plain_column:
            need = "**required**" if name in required else "optional"
            lines.append(f"| `{name}` | {kind} | {need} | {text} |")
        else:
            lines.append(f"| `{name}` | {kind} | {text} |")
    return lines


def render(schema: dict[str, Any]) -> str:
    out = [INTRO]
    out.append("## Components\n")
    for token, resource in sorted(schema["resources"].items()):
        name = token.rsplit(":", 1)[-1]
        out.append(f"### {name}\n")
        out.append(f"Type token `{token}`. {cell(resource.get('description', ''))}\n")
        out += rows(resource.get("inputProperties", {}), resource.get("requiredInputs", []))
        out.append("")
        out += rows(resource.get("properties", {}), [], plain_column=False)
        out.append("")
    out.append("## Types\n")
    for token, spec in sorted(schema["types"].items(), key=lambda kv: kv[0].lower()):
        name = token.rsplit(":", 1)[-1]
        out.append(f"### {name}\n")
        if spec.get("description"):
            out.append(cell(spec["description"]) + "\n")
        if "enum" in spec:
            values = ", ".join(f"`{m['value']}`" for m in spec["enum"])
            out.append(f"An enum ({spec['type']}): {values}.\n")
            continue
        out += rows(spec.get("properties", {}), spec.get("required", []))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def reference_text() -> str:
    return render(VaComponentProvider().schema_dict())


if __name__ == "__main__":
    sys.stdout.write(reference_text())

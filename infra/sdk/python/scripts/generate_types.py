"""Generate pytake/types.py from PyTake's OpenAPI document.

Every schema a response uses becomes a dataclass with a from_dict
constructor (unknown members are kept in to_dict(), so a newer server never
breaks an older SDK); every schema a request body uses becomes a TypedDict,
so mypy checks what callers pass. Run from infra/sdk/python:

    python scripts/generate_types.py            # rewrite pytake/types.py
    python scripts/generate_types.py --check    # exit 1 when it is stale

tests/test_generated.py runs the check, so the SDK cannot drift from the
document unnoticed.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

HERE = Path(__file__).resolve().parent
SDK = HERE.parent
DEFAULT_DOC = SDK.parent.parent.parent / "internal" / "api" / "openapi.json"
OUT = SDK / "pytake" / "types.py"

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ref_name(s: Dict[str, Any]) -> Optional[str]:
    r = s.get("$ref")
    if isinstance(r, str) and r.startswith("#/components/schemas/"):
        return r.rsplit("/", 1)[1]
    return None


def camel(s: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", s) if p)


def refs_in(s: Any, out: Set[str]) -> None:
    if isinstance(s, dict):
        n = ref_name(s)
        if n:
            out.add(n)
        for v in s.values():
            refs_in(v, out)
    elif isinstance(s, list):
        for v in s:
            refs_in(v, out)


def closure(schemas: Dict[str, Any], roots: Set[str]) -> Set[str]:
    seen: Set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        found: Set[str] = set()
        refs_in(schemas[n], found)
        todo.extend(found - seen)
    return seen


def operations(doc: Dict[str, Any]) -> List[Tuple[str, str, Dict[str, Any]]]:
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method, path, op))
    return out


def nullable(s: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
    """The schema without its null alternative, and whether null is allowed."""
    t = s.get("type")
    if isinstance(t, list) and "null" in t:
        rest = [x for x in t if x != "null"]
        s2 = dict(s)
        s2["type"] = rest[0] if len(rest) == 1 else rest
        if "enum" in s2:
            s2["enum"] = [e for e in s2["enum"] if e is not None]
        return s2, True
    for key in ("anyOf", "oneOf"):
        alts = s.get(key)
        if isinstance(alts, list) and any(a.get("type") == "null" for a in alts):
            rest = [a for a in alts if a.get("type") != "null"]
            if len(rest) == 1:
                return rest[0], True
            s2 = {key: rest}
            return s2, True
    return s, t == "null"


class Gen:
    def __init__(self, doc: Dict[str, Any]) -> None:
        self.schemas: Dict[str, Any] = doc["components"]["schemas"]
        resp: Set[str] = set()
        req: Set[str] = set()
        for _, _, op in operations(doc):
            rb = op.get("requestBody")
            if rb:
                refs_in(rb, req)
            for code, r in op.get("responses", {}).items():
                if code.startswith("2"):
                    refs_in(r, resp)
        self.responses = closure(self.schemas, resp)
        self.requests = closure(self.schemas, req)
        self.out: List[str] = []
        self.emitted: Set[str] = set()

    # ---- responses: dataclasses ----

    def rtype(self, s: Dict[str, Any], owner: str, field: str) -> Tuple[str, str]:
        """(annotation, parse expression template with {v}) for a response field."""
        s, _ = nullable(s)
        n = ref_name(s)
        if n:
            target = self.schemas[n]
            if target.get("type") == "string":
                return "str", "{v}"
            return n, n + ".from_dict({v})"
        if "allOf" in s or "oneOf" in s or "anyOf" in s:
            return "Any", "{v}"
        t = s.get("type")
        if "const" in s and isinstance(s["const"], bool):
            return "bool", "{v}"
        if t == "string":
            return "str", "{v}"
        if t == "integer":
            return "int", "{v}"
        if t == "number":
            return "float", "{v}"
        if t == "boolean":
            return "bool", "{v}"
        if t == "array":
            it, parse = self.rtype(s.get("items", {}), owner, field)
            if parse == "{v}":
                return f"List[{it}]", "list({v})"
            return f"List[{it}]", "[" + parse.format(v="x") + " for x in {v}]"
        if t == "object":
            ap = s.get("additionalProperties")
            if ap is True:
                # A free-form map (its properties, if any, only describe
                # well-known keys): a dict, so every key stays reachable.
                return "Dict[str, Any]", "dict({v})"
            if isinstance(ap, dict) and ap:
                it, parse = self.rtype(ap, owner, field)
                if parse == "{v}":
                    return f"Dict[str, {it}]", "dict({v})"
                return f"Dict[str, {it}]", "{{k: " + parse.format(v="x") + " for k, x in {v}.items()}}"
            if s.get("properties"):
                name = owner + camel(field)
                self.dataclass(name, s)
                return name, name + ".from_dict({v})"
            return "Dict[str, Any]", "dict({v})"
        return "Any", "{v}"

    def flatten(self, s: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any], List[str], str]:
        """(base class, properties, required, description) of an object schema,
        allOf and oneOf included."""
        desc = s.get("description", "")
        if "allOf" in s:
            base = None
            props: Dict[str, Any] = {}
            req: List[str] = []
            for part in s["allOf"]:
                n = ref_name(part)
                if n and base is None:
                    base = n
                    continue
                props.update(part.get("properties", {}))
                req += part.get("required", [])
            return base, props, req, desc
        if "oneOf" in s and "properties" not in s:
            props = {}
            reqs: Optional[Set[str]] = None
            for alt in s["oneOf"]:
                for k, v in alt.get("properties", {}).items():
                    props.setdefault(k, v)
                r = set(alt.get("required", []))
                reqs = r if reqs is None else reqs & r
            return None, props, [k for k in props if reqs and k in reqs], desc
        return None, s.get("properties", {}), s.get("required", []), desc

    def dataclass(self, name: str, s: Dict[str, Any]) -> None:
        if name in self.emitted:
            return
        self.emitted.add(name)
        base, props, required, desc = self.flatten(s)
        if base:
            self.dataclass(base, self.schemas[base])
        lines: List[str] = []
        parses: List[str] = []
        for field, fs in props.items():
            ann, parse = self.rtype(fs, name, field)
            attr = field + "_" if keyword.iskeyword(field) else field
            _, is_null = nullable(fs)
            if field in required and not is_null:
                lines.append(f"    {attr}: {ann}")
                parses.append(f"            {attr}=" + parse.format(v=f'd["{field}"]') + ",")
            else:
                lines.append(f"    {attr}: Optional[{ann}] = None")
                expr = parse.format(v=f'd["{field}"]')
                if expr == f'd["{field}"]':
                    parses.append(f'            {attr}=d.get("{field}"),')
                else:
                    parses.append(f'            {attr}={expr} if d.get("{field}") is not None else None,')
        if base:
            _, bprops, _, _ = self.flatten(self.schemas[base])
            inherited = [f"            {f}_=b.{f}_," if keyword.iskeyword(f) else f"            {f}=b.{f}," for f in bprops]
            parses = inherited + parses
        out = self.out
        out.append("")
        out.append("")
        out.append("@dataclass(kw_only=True)")
        out.append(f"class {name}({base or 'Model'}):")
        out.append(f'    """{doc_line(desc, name)}"""')
        out.append("")
        out.extend(lines)
        if lines:
            out.append("")
        out.append("    @classmethod")
        out.append(f"    def from_dict(cls, d: Mapping[str, Any]) -> {name}:")
        if base:
            out.append(f"        b = {base}.from_dict(d)")
        out.append("        return cls(")
        out.extend(parses)
        out.append("            _raw=dict(d),")
        out.append("        )")

    # ---- requests: TypedDicts ----

    def itype(self, s: Dict[str, Any], owner: str, field: str) -> str:
        s, is_null = nullable(s)
        t = self._itype(s, owner, field)
        return f"Optional[{t}]" if is_null else t

    def _itype(self, s: Dict[str, Any], owner: str, field: str) -> str:
        n = ref_name(s)
        if n:
            target = self.schemas[n]
            if target.get("type") == "string":
                return "str"
            self.typeddict(n, target)
            return n
        for key in ("anyOf", "oneOf"):
            if key in s and "type" not in s and "properties" not in s:
                return "Union[" + ", ".join(self.itype(a, owner, field) for a in s[key]) + "]"
        t = s.get("type")
        if isinstance(t, list):
            return "Any"
        if "enum" in s and t == "string":
            return "Literal[" + ", ".join(json.dumps(e) for e in s["enum"]) + "]"
        if t == "string":
            return "str"
        if t == "integer":
            return "int"
        if t == "number":
            return "float"
        if t == "boolean":
            return "bool"
        if t == "null":
            return "None"
        if t == "array":
            return f"Sequence[{self.itype(s.get('items', {}), owner, field)}]"
        if t == "object":
            ap = s.get("additionalProperties")
            props = s.get("properties", {})
            if props and all(IDENT.match(k) for k in props):
                name = owner + camel(field)
                self.typeddict(name, s)
                return name
            if props:
                vals = sorted({self.itype(v, owner, field) for v in props.values()})
                return f"Mapping[str, {vals[0] if len(vals) == 1 else 'Union[' + ', '.join(vals) + ']'}]"
            if isinstance(ap, dict) and ap:
                return f"Mapping[str, {self.itype(ap, owner, field)}]"
            return "Mapping[str, Any]"
        return "Any"

    def typeddict(self, name: str, s: Dict[str, Any]) -> None:
        if name in self.emitted:
            return
        self.emitted.add(name)
        props = s.get("properties", {})
        required = set(s.get("required", []))
        lines = []
        for field, fs in props.items():
            _, is_null = nullable(fs)
            if fs.get("type") == "null":
                continue  # a member the operation refuses (documented for a clear 422)
            t = self.itype(fs, name, field)
            if field in required and not is_null:
                t = f"Required[{t}]"
            lines.append(f"    {field}: {t}")
        self.out.append("")
        self.out.append("")
        self.out.append(f"class {name}(TypedDict, total=False):")
        self.out.append(f'    """{doc_line(s.get("description", ""), name)}"""')
        self.out.append("")
        self.out.extend(lines or ["    pass"])

    def run(self) -> str:
        head = [
            '"""Typed models of PyTake\'s API, generated from its OpenAPI document by',
            "scripts/generate_types.py: do not edit by hand.",
            "",
            "Responses are dataclasses (``Contact.from_dict(...)``; ``to_dict()`` gives the",
            "JSON as received, members this SDK does not know included); request bodies",
            'are TypedDicts checked by mypy."""',
            "",
            "from __future__ import annotations",
            "",
            "import copy",
            "import sys",
            "from dataclasses import dataclass, field",
            "from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, TypedDict, Union",
            "",
            "if sys.version_info >= (3, 11):",
            "    from typing import Required",
            "else:  # pragma: no cover",
            "    from typing_extensions import Required",
            "",
            "",
            "@dataclass(kw_only=True)",
            "class Model:",
            '    """Base of every response model."""',
            "",
            "    _raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)",
            "",
            "    def to_dict(self) -> Dict[str, Any]:",
            '        """The JSON object as the API answered it."""',
            "        return copy.deepcopy(self._raw)",
        ]
        self.out = head
        for name, s in self.schemas.items():
            if name in self.responses and (s.get("type") == "object" or "allOf" in s or "oneOf" in s):
                self.dataclass(name, s)
        for name, s in self.schemas.items():
            if name in self.requests and s.get("type") == "object":
                self.typeddict(name, s)
        self.out.append("")
        return "\n".join(self.out)


def doc_line(desc: str, name: str) -> str:
    first = desc.strip().split("\n")[0] if desc else ""
    first = first.replace('"""', "'''").replace("\\", "\\\\")
    if len(first) > 300:
        first = first[:297].rsplit(" ", 1)[0] + " ..."
    return first or f"{name} (see the OpenAPI document)."


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", default=str(DEFAULT_DOC))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    doc = json.loads(Path(args.doc).read_text(encoding="utf-8"))
    src = Gen(doc).run()
    if args.check:
        if OUT.read_text(encoding="utf-8") != src:
            print(f"{OUT} is stale: run python scripts/generate_types.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(src, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

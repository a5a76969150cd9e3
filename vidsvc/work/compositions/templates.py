"""A template's composition checked as a composition when it is saved, its placeholders aside.

Whether `"fps": "{{FPS}}"` is valid depends on the merge, so each placeholder stands as its own
text and the checks run in two passes (docs/api.md#templates):

1. the schema, over the document as posted; a placeholder whose field the schema refuses (a
   string where a number goes, an enum…) is then left out, its key removed, and the schema
   runs again, so an optional field takes its default and a required one is reported missing;
2. when the schema builds a composition, the POST's other checks (`checks.rules`: output shape,
   timeline, sound, memory, URL policy) one by one.

A refusal is set aside when it names a placeholder's field or a field below it; in pass 2 also
one about the object a placeholder was left out of (its defaults are not the merge's values).
Every other refusal is the template's, reported as a POST would report it. What is left for
the merge: whole-value placeholders' types and ranges, URLs holding a placeholder, and, where a
placeholder stands in a required field (a clip's url left as text is fine; `"clips":
"{{CLIPS}}"` is not), every check of pass 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import ValidationError, VidsvcError
from vidsvc.schema import CompositionSchema, placeholders
from vidsvc.schema.placeholders import Path, Slot
from vidsvc.schema.wire import flatten
from vidsvc.work.compositions.checks import rules


def check_template(document: Mapping[str, Any], settings: Settings) -> tuple[str, ...]:
    """The placeholders' names, in order of first use, once the template passes; otherwise the
    first refusal, naming its field within the composition."""
    slots = placeholders.find(document)
    comp, dropped = _schema_pass(document, slots)
    if comp is not None:
        set_aside = _prefixes(slots, dropped, beside=True)
        for rule in rules(comp, settings):
            try:
                rule()
            except VidsvcError as exc:
                _unless_set_aside(exc, set_aside)
    return placeholders.names(slots)


def _schema_pass(
    document: Mapping[str, Any], slots: Sequence[Slot]
) -> tuple[spec.Composition | None, tuple[Slot, ...]]:
    """The composition, or None when a refusal was set aside; and the slots left out."""
    found = _load(document)
    if isinstance(found, spec.Composition):
        return found, ()
    aside = _prefixes(slots, (), beside=False)
    dropped = tuple(
        s for s in slots if isinstance(s.where[-1], str) and _covered(found, {s.field: True})
    )
    if dropped:
        found = _load(_without(document, {s.where for s in dropped}))
        if isinstance(found, spec.Composition):
            return found, dropped
        aside = _prefixes(slots, dropped, beside=False)
    problems = {f: m for f, m in found.items() if not _under(_field(f), aside)}
    if problems:
        first, message = next(iter(problems.items()))
        raise ValidationError(f"{first}: {message}", details={"field": first, "fields": problems})
    return None, dropped


def _load(document: Mapping[str, Any]) -> spec.Composition | dict[str, str]:
    """The composition, or every refusal by field (the schema reports all of them)."""
    try:
        comp: spec.Composition = CompositionSchema().load(document)
    except MarshmallowError as exc:
        return flatten(exc.messages)
    return comp


def _without(node: Any, wheres: set[Path], here: Path = ()) -> Any:
    """A copy of node without the keys at `wheres`."""
    if isinstance(node, dict):
        return {
            k: _without(v, wheres, (*here, k)) for k, v in node.items() if (*here, k) not in wheres
        }
    if isinstance(node, list):
        return [_without(v, wheres, (*here, i)) for i, v in enumerate(node)]
    return node


def _field(name: str) -> str:
    """A flattened marshmallow name as a field: `clips[0]._schema` (the object's own) →
    `clips[0]`; the document's own → ""."""
    if name == "_schema":
        return ""
    return name.removesuffix("._schema")


def _prefixes(slots: Iterable[Slot], dropped: Iterable[Slot], *, beside: bool) -> dict[str, bool]:
    """Fields whose refusals are set aside: {field: also everything below it}. A slot's own
    field, with what is below it; the object a slot was left out of: itself, and with
    `beside`, all of it (but the document: a top-level field left out, `color_preset` say,
    does not make every refusal the merge's)."""
    out = {s.field: True for s in slots}
    for s in dropped:
        parent = placeholders.field_name(s.where[:-1])
        out[parent] = out.get(parent, False) or (beside and parent != "")
    return out


def _under(field: str, prefixes: Mapping[str, bool]) -> bool:
    for prefix, below in prefixes.items():
        if field == prefix:
            return True
        if below and field.startswith((prefix + ".", prefix + "[")):
            return True
    return False


def _covered(problems: Mapping[str, str], prefixes: Mapping[str, bool]) -> bool:
    """Does any refusal name one of these fields (or, where asked, a field below one)?"""
    return any(_under(_field(f), prefixes) for f in problems)


def _unless_set_aside(exc: VidsvcError, set_aside: Mapping[str, bool]) -> None:
    """Re-raise exc unless it is about placeholders; a timeline refusal lists every issue, so
    it is raised again with the first issue that is the template's own."""
    issues = exc.details.get("issues")
    if isinstance(issues, list):
        kept = [i for i in issues if not _under(str(i.get("field", "")), set_aside)]
        if kept:
            details = {**exc.details, "field": kept[0]["field"], "issues": kept}
            raise type(exc)(kept[0]["message"], details=details) from None
        return
    field = exc.details.get("field")
    if not isinstance(field, str) or not _under(field, set_aside):
        raise exc

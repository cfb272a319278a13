"""Diff: what changed between two instrument versions (pure).

Questions are matched by name, choices by (list, name). A question present in only one
version may have been *renamed*: it is paired with an unmatched question of the other version
when both have the same type and choice list and their labels are similar (the heuristic
below); a choice likewise within its list. Renames found this way are proposals: a crosswalk
(:mod:`pipeline.model.crosswalk`) is what confirms that two items measure the same thing.

Heuristic for renames
---------------------
Labels are lower-cased and stripped of punctuation; their similarity is the ratio of
:class:`difflib.SequenceMatcher` (0–1). Unmatched pairs with a ratio of at least
:data:`RENAME_SIMILARITY` are paired greedily, most similar first. A removed choice whose name
starts the names of two or more added choices of the same list is reported as *split*.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher

from pipeline.model.instrument import Choice, Instrument, Question

#: Minimum label similarity for an unmatched pair to be reported as a rename.
RENAME_SIMILARITY = 0.6
#: Question properties compared besides the label and the type.
PROPERTIES = ("hint", "required", "relevant", "constraint", "personal", "group")
#: Kinds of change, in the order they are reported.
KINDS = ("question_added", "question_removed", "question_renamed", "question_reworded",
         "question_type_changed", "question_list_changed", "question_property_changed",
         "list_added", "list_removed", "choice_added", "choice_removed", "choice_renamed",
         "choice_split", "choice_relabelled", "choice_recoded", "choice_reordered",
         "scale_changed", "phase_changed")


@dataclass(frozen=True)
class Change:
    """One difference between two instrument versions.

    ``question`` and ``choice`` name the item in the *old* version (the new name for an
    addition); ``list_name`` is the choice list; ``old`` and ``new`` the values that differ.
    """

    kind: str
    question: str = ""
    list_name: str = ""
    choice: str = ""
    old: str = ""
    new: str = ""
    detail: str = ""


@dataclass(frozen=True)
class InstrumentDiff:
    """Every change from version ``old`` to version ``new``, in report order."""

    old: str
    new: str
    changes: tuple[Change, ...]

    @property
    def identical(self) -> bool:
        return not self.changes

    def of_kind(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "identical": self.identical,
                "changes": [asdict(c) for c in self.changes]}


def normalise_label(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces."""
    return " ".join(re.sub(r"[^\w%]+", " ", str(text).lower()).split())


def label_similarity(a: str, b: str) -> float:
    """Similarity of two labels, 0–1 (:class:`difflib.SequenceMatcher` ratio)."""
    return SequenceMatcher(None, normalise_label(a), normalise_label(b)).ratio()


def _pair(removed: list, added: list, key, compatible) -> list[tuple]:
    """Greedy pairing of removed and added items by label similarity (most similar first)."""
    scored = sorted(((label_similarity(key(r), key(a)), i, j)
                     for i, r in enumerate(removed) for j, a in enumerate(added)
                     if compatible(r, a)), key=lambda t: (-t[0], t[1], t[2]))
    used_r: set[int] = set()
    used_a: set[int] = set()
    pairs = []
    for score, i, j in scored:
        if score < RENAME_SIMILARITY or i in used_r or j in used_a:
            continue
        used_r.add(i)
        used_a.add(j)
        pairs.append((removed[i], added[j], score))
    return pairs


def _choice_names(instrument: Instrument, list_name: str | None) -> tuple[str, ...]:
    return tuple(c.name for c in instrument.choices.get(list_name or "", ()))


def scale_changed(old: Instrument, old_question: str, new: Instrument, new_question: str
                  ) -> bool:
    """Whether two questions differ in type or in their answer options.

    Two answers are on the same scale when both questions have the same type and, for select
    questions, the same choice names in the same order (labels and export codes may differ).
    """
    a, b = old.question(old_question), new.question(new_question)
    if a.type != b.type:
        return True
    if a.is_select:
        return _choice_names(old, a.list_name) != _choice_names(new, b.list_name)
    return False


def diff_instruments(old: Instrument, new: Instrument) -> InstrumentDiff:
    """Every change from ``old`` to ``new``.

    Parameters
    ----------
    old, new : Instrument
        Two versions of the same survey.

    Returns
    -------
    InstrumentDiff
        Changes in :data:`KINDS` order, then in the old version's question order.
    """
    changes: list[Change] = []
    old_q = {q.name: q for q in old.answerable}
    new_q = {q.name: q for q in new.answerable}
    removed = [q for q in old.answerable if q.name not in new_q]
    added = [q for q in new.answerable if q.name not in old_q]

    def same_kind(a: Question, b: Question) -> bool:
        return a.type == b.type and (not a.is_select or
                                     _choice_names(old, a.list_name) ==
                                     _choice_names(new, b.list_name))

    renamed = _pair(removed, added, key=lambda q: q.label, compatible=same_kind)
    renamed_old = {a.name: b for a, b, _ in renamed}
    renamed_new = {b.name for _, b, _ in renamed}
    changes.extend(Change("question_added", q.name, q.list_name or "", new=q.label,
                          detail=q.type)
                   for q in added if q.name not in renamed_new)
    changes.extend(Change("question_removed", q.name, q.list_name or "", old=q.label,
                          detail=q.type)
                   for q in removed if q.name not in renamed_old)
    for a, b, score in renamed:
        changes.append(Change("question_renamed", a.name, a.list_name or "", old=a.name,
                              new=b.name, detail=f"label similarity {score:.2f}: "
                                                 f"'{a.label}' → '{b.label}'"))
    pairs = [(old_q[n], new_q[n]) for n in old_q if n in new_q] + \
        [(a, b) for a, b, _ in renamed]
    for a, b in pairs:
        if a.label != b.label:
            similarity = label_similarity(a.label, b.label)
            changes.append(Change("question_reworded", a.name, old=a.label, new=b.label,
                                  detail=f"label similarity {similarity:.2f}"))
        if a.type != b.type:
            changes.append(Change("question_type_changed", a.name, old=a.type, new=b.type))
        if (a.list_name or "") != (b.list_name or "") and a.is_select and b.is_select:
            changes.append(Change("question_list_changed", a.name, old=a.list_name or "",
                                  new=b.list_name or ""))
        for prop in PROPERTIES:
            va, vb = getattr(a, prop), getattr(b, prop)
            if va != vb:
                changes.append(Change("question_property_changed", a.name, old=str(va),
                                      new=str(vb), detail=prop))
        if (a.is_select or b.is_select) and a.type == b.type == "select_one" \
                and scale_changed(old, a.name, new, b.name):
            changes.append(Change(
                "scale_changed", a.name, a.list_name or "",
                old=", ".join(_choice_names(old, a.list_name)),
                new=", ".join(_choice_names(new, b.list_name)),
                detail="the answer options of a single-choice question differ"))
        elif a.type != b.type:
            changes.append(Change("scale_changed", a.name, a.list_name or "",
                                  old=a.type, new=b.type, detail="the question type differs"))

    changes.extend(_diff_lists(old, new))
    if (old.phase_question, tuple(old.phase_order), tuple(sorted(old.phase_lookup.items()))) != \
            (new.phase_question, tuple(new.phase_order), tuple(sorted(new.phase_lookup.items()))):
        changes.append(Change(
            "phase_changed", old.phase_question or new.phase_question,
            old=f"question '{old.phase_question}', phases {', '.join(old.phase_order)}",
            new=f"question '{new.phase_question}', phases {', '.join(new.phase_order)}",
            detail="phase question, phase order or phase map differ"))
    rank = {k: i for i, k in enumerate(KINDS)}
    ordered = sorted(enumerate(changes), key=lambda t: (rank[t[1].kind], t[0]))
    return InstrumentDiff(old=old.version, new=new.version,
                          changes=tuple(c for _, c in ordered))


def _diff_lists(old: Instrument, new: Instrument) -> list[Change]:
    changes: list[Change] = []
    changes.extend(Change("list_removed", list_name=name,
                          old=", ".join(_choice_names(old, name)))
                   for name in old.choices if name not in new.choices)
    changes.extend(Change("list_added", list_name=name,
                          new=", ".join(_choice_names(new, name)))
                   for name in new.choices if name not in old.choices)
    for name in old.choices:
        if name not in new.choices:
            continue
        a = {c.name: c for c in old.choices[name]}
        b = {c.name: c for c in new.choices[name]}
        gone: list[Choice] = [c for c in old.choices[name] if c.name not in b]
        new_ones: list[Choice] = [c for c in new.choices[name] if c.name not in a]
        renamed = _pair(gone, new_ones, key=lambda c: c.label, compatible=lambda x, y: True)
        paired_old = {x.name for x, _, _ in renamed}
        paired_new = {y.name for _, y, _ in renamed}
        splits: dict[str, list[str]] = {}
        for c in gone:
            if c.name in paired_old:
                continue
            parts = [d.name for d in new_ones if d.name not in paired_new
                     and d.name.startswith(c.name + "_")]
            if len(parts) >= 2:
                splits[c.name] = parts
        split_new = {p for parts in splits.values() for p in parts}
        changes.extend(Change("choice_added", list_name=name, choice=c.name,
                              new=c.label, detail=f"code {c.code}")
                       for c in new_ones
                       if c.name not in paired_new and c.name not in split_new)
        changes.extend(Change("choice_removed", list_name=name, choice=c.name,
                              old=c.label, detail=f"code {c.code}")
                       for c in gone if c.name not in paired_old and c.name not in splits)
        for x, y, score in renamed:
            changes.append(Change("choice_renamed", list_name=name, choice=x.name,
                                  old=x.name, new=y.name,
                                  detail=f"label similarity {score:.2f}: '{x.label}' → "
                                         f"'{y.label}'"))
        for source, parts in splits.items():
            labels = "; ".join(f"{p} '{next(c.label for c in new_ones if c.name == p)}'"
                               for p in parts)
            changes.append(Change("choice_split", list_name=name, choice=source,
                                  old=a[source].label, new=", ".join(parts),
                                  detail=f"replaced by {labels}"))
        for key, choice in a.items():
            if key not in b:
                continue
            if choice.label != b[key].label:
                changes.append(Change("choice_relabelled", list_name=name, choice=key,
                                      old=choice.label, new=b[key].label))
            if choice.code != b[key].code:
                changes.append(Change("choice_recoded", list_name=name, choice=key,
                                      old=choice.code, new=b[key].code))
        common_old = [c for c in a if c in b]
        common_new = [c for c in b if c in a]
        if common_old != common_new:
            changes.append(Change("choice_reordered", list_name=name,
                                  old=", ".join(common_old), new=", ".join(common_new)))
    return changes


def format_diff(result: InstrumentDiff) -> str:
    """The diff as readable text, one line per change (``no changes`` when identical)."""
    if result.identical:
        return f"{result.old} → {result.new}: no changes."
    lines = [f"{result.old} → {result.new}: {len(result.changes)} change(s)"]
    for c in result.changes:
        where = c.question or c.list_name
        if c.choice:
            where = f"{c.list_name}/{c.choice}"
        text = {
            "question_added": f"+ question {where} ({c.detail}): {c.new}",
            "question_removed": f"- question {where} ({c.detail}): {c.old}",
            "question_renamed": f"~ question renamed {c.old} → {c.new} ({c.detail})",
            "question_reworded": f"~ question {where} reworded: '{c.old}' → '{c.new}'",
            "question_type_changed": f"~ question {where} type {c.old} → {c.new}",
            "question_list_changed": f"~ question {where} choice list {c.old} → {c.new}",
            "question_property_changed": f"~ question {where} {c.detail}: '{c.old}' → "
                                         f"'{c.new}'",
            "list_added": f"+ list {where}: {c.new}",
            "list_removed": f"- list {where}: {c.old}",
            "choice_added": f"+ choice {where} ({c.detail}): {c.new}",
            "choice_removed": f"- choice {where} ({c.detail}): {c.old}",
            "choice_renamed": f"~ choice renamed {c.list_name}/{c.old} → {c.new} ({c.detail})",
            "choice_split": f"~ choice {where} split into {c.new} ({c.detail})",
            "choice_relabelled": f"~ choice {where} relabelled: '{c.old}' → '{c.new}'",
            "choice_recoded": f"~ choice {where} export code {c.old} → {c.new}",
            "choice_reordered": f"~ list {where} order: {c.old} → {c.new}",
            "scale_changed": f"! scale of {where} changed ({c.detail}): {c.old} → {c.new}",
            "phase_changed": f"! phase changed ({c.detail}): {c.old} → {c.new}",
        }[c.kind]
        lines.append("  " + text)
    return "\n".join(lines)

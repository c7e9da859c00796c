"""Other forms of one given name that a person goes by: similar, never equal.

English nicknames (BOB for ROBERT, PEGGY for MARGARET) come from the
``nicknames`` package (a hand-curated list of English given names and their
nicknames). The everyday forms of Greek names (Γιώργος for Γεώργιος, Κώστας
for Κωνσταντίνος), which Greek papers and hospitals write as often as the
formal ones, are listed here because no library holds them. A name matched
through either is only *similar*: it keeps a patient among the candidates for
review (a relative or twin has a plainly other given name), and never makes
an automatic match.
"""

from __future__ import annotations

import functools

from nicknames import NickNamer

from reconcile import scripts

_GREEK_EVERYDAY = {
    "Γεώργιος": ("Γιώργος",),
    "Δημήτριος": ("Δημήτρης",),
    "Κωνσταντίνος": ("Κώστας",),
    "Ιωάννης": ("Γιάννης",),
    "Ιωάννα": ("Γιάννα",),
    "Νικόλαος": ("Νίκος",),
    "Βασίλειος": ("Βασίλης",),
    "Παναγιώτης": ("Πάνος",),
    "Χαράλαμπος": ("Χάρης", "Μπάμπης"),
    "Αναστάσιος": ("Τάσος",),
    "Ευάγγελος": ("Βαγγέλης",),
    "Σπυρίδων": ("Σπύρος",),
    "Εμμανουήλ": ("Μανώλης",),
    "Αθανάσιος": ("Θανάσης",),
    "Μιχαήλ": ("Μιχάλης",),
    "Θεόδωρος": ("Θοδωρής",),
    "Γρηγόριος": ("Γρηγόρης",),
    "Στυλιανός": ("Στέλιος",),
    "Αικατερίνη": ("Κατερίνα",),
}
"""Formal Greek given names (as the registry writes them) and their everyday forms."""


@functools.cache
def _greek_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for formal, everyday in _GREEK_EVERYDAY.items():
        group = frozenset(scripts.native_fold(w) for w in (formal, *everyday))
        for word in group:
            groups[word] = group
    return groups


def greek_forms(word: str) -> frozenset[str]:
    """The other forms of a folded Greek given name (:func:`reconcile.scripts.native_fold`),
    formal or everyday; empty when none is known."""
    return _greek_groups().get(word, frozenset()) - {word}


@functools.cache
def _namer() -> NickNamer:
    return NickNamer()


def english_nickname(a: str, b: str) -> bool:
    """Whether one of two English given names is a known nickname of the other."""
    x, y = a.lower(), b.lower()
    if x == y or not x.isalpha() or not y.isalpha():
        return False
    namer = _namer()
    return y in namer.nicknames_of(x) or x in namer.nicknames_of(y)

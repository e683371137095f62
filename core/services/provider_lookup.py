"""Which provider a customer means: by code, by phone, by the start of its name."""

from __future__ import annotations

from collections.abc import Sequence

from core.models import ServiceAccount
from core.rules import limits

MAX_CANDIDATES = 9


async def by_phones(*, phones: Sequence[str]) -> list[ServiceAccount]:
    """The accounts with these phones, in the order given (a stored numbered choice)."""
    found = {a.phone: a for a in await ServiceAccount.filter(phone__in=list(phones))}
    return [found[p] for p in phones if p in found]


async def default_accounts() -> list[ServiceAccount]:
    """The accounts to offer when none was named; exactly one means it is the default."""
    return list(await ServiceAccount.all().order_by("created_at", "id").limit(MAX_CANDIDATES))


async def find(*, words: Sequence[str], phone: str | None) -> list[ServiceAccount]:
    """Every account `words` (or `phone`) could mean; one is a match, several a choice."""
    if phone is not None:
        account = await ServiceAccount.get_or_none(phone=phone)
        if account is not None:
            return [account]
    if not words:
        return []
    # Words come from free text: only what the columns can hold is looked up.
    text = " ".join(words)
    if len(words) == 1 and limits.is_code(text):
        account = await ServiceAccount.get_or_none(code=text.upper())
        if account is not None:
            return [account]
    named: list[ServiceAccount] = []
    if len(text) <= limits.MAX_NAME_COLUMN:
        named = list(
            await ServiceAccount.filter(name__istartswith=text)
            .order_by("created_at", "id")
            .limit(MAX_CANDIDATES)
        )
    exact = [a for a in named if a.name.casefold() == text.casefold()]
    if len(exact) == 1:
        return exact
    if named:
        return named
    # "join the queue at spa tomorrow" leaves stray words around the code.
    codes = {w.upper() for w in words if limits.is_code(w)}
    if not codes:
        return []
    return list(await ServiceAccount.filter(code__in=sorted(codes)).limit(MAX_CANDIDATES))

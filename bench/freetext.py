"""Free text as customers send it, for the free-text SMS scenario: names, typos of
commands, sentences and emoji, nearly all different, so the parser's cache of recent
texts does not do the work.

Every text is one a customer waiting in a line may send without changing it: nothing
here joins, leaves or opts out (the scenario's checks rely on the line standing still),
so the server answers STATUS, HELP, a greeting or "Try JOIN, STATUS or LEAVE".
"""

from __future__ import annotations

import random

_FIRST = (
    "Jonathan", "Maria", "Wei", "Aisha", "Olivia", "Mateo", "Priya", "Liam", "Chloé",
    "Noah", "Fatima", "Lucas", "Yuki", "Emma", "Omar", "Sofia", "Ethan", "Zoë", "Ivan",
    "Amara", "José", "Hannah", "Kwame", "Ingrid", "Raj",
)
_LAST = (
    "Smithers", "Garcia-Lopez", "O'Brien", "Nguyen", "Kowalski", "Okafor", "Müller",
    "Rossi", "Tanaka", "Johansson", "Dubois", "Haddad", "Silva", "Novak", "Schmidt",
    "Kim", "Patel", "Moreau", "Fischer", "Costa", "Núñez", "Andersen",
)
# Typos of these are STATUS, HELP, or not understood; never a change to the line.
_TYPO_OF = ("status", "position", "help", "where")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SENTENCES = (
    "can you tell me how long the wait is {when}",
    "am I next? {emoji}",
    "when is my turn {when}",
    "how many ahead of me {when}",
    "hi, is it busy {when}?",
    "I was wondering what my position is {when}",
    "running {n} minutes late, sorry",
    "is the parking free {when}",
    "how long until my turn, I have a meeting at {n}",
    "where am I in the line? {emoji}",
    "do you take cards? {emoji}",
    "my daughter will come with me, we are {n} minutes away",
)
_WHEN = ("today", "now", "right now", "this afternoon", "tonight", "at the moment", "")
_EMOJI = ("👍", "🙂", "🙏", "👋", "❤️", "😊", "👌", "🎉", "😅", "")
_GREETINGS = ("thanks!", "thank you {emoji}", "hi {emoji}", "ok {emoji}", "{emoji}", "cheers")


def _typo(rng: random.Random) -> str:
    word = list(rng.choice(_TYPO_OF))
    i = rng.randrange(len(word))
    kind = rng.randrange(4)
    if kind == 0 and i + 1 < len(word):
        word[i], word[i + 1] = word[i + 1], word[i]
    elif kind == 1:
        del word[i]
    elif kind == 2:
        word.insert(i, rng.choice(_LETTERS))
    else:
        word[i] = rng.choice(_LETTERS)
    text = "".join(word)
    return text.upper() if rng.random() < 0.2 else text


def texts(count: int, *, seed: int = 12) -> list[str]:
    """`count` free-text bodies in a fixed mix: a quarter each of names, typos,
    sentences and greetings or emoji."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            middle = f"{rng.choice(_LETTERS).upper()}. " if rng.random() < 0.6 else ""
            out.append(f"{rng.choice(_FIRST)} {middle}{rng.choice(_LAST)}")
        elif kind == 1:
            typo = _typo(rng)
            out.append(typo if rng.random() < 0.5 else f"{typo} {_typo(rng)}")
        elif kind == 2:
            out.append(
                rng.choice(_SENTENCES)
                .format(when=rng.choice(_WHEN), emoji=rng.choice(_EMOJI), n=rng.randint(2, 59))
                .strip()
            )
        else:
            out.append(rng.choice(_GREETINGS).format(emoji=rng.choice(_EMOJI[:-1])).strip())
    return out

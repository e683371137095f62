"""The words a text is read with: the commands, the words and phrases for each, and the
words that carry no meaning (greetings, fillers). core.rules.commands reads a text with them.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    JOIN = "join"
    STATUS = "status"
    LEAVE = "leave"
    HELP = "help"
    STOP = "stop"
    START = "start"
    QUEUE = "queue"
    NEXT = "next"
    DONE = "done"
    NOSHOW = "noshow"
    ADD = "add"
    GREET = "greet"
    HOW_TO_STOP = "how_to_stop"
    # A called customer confirming they are here or on the way.
    HERE = "here"
    # A customer asking why they stand where they do (their own penalty).
    WHY = "why"
    STATS = "stats"
    # A provider reverting its last NEXT, DONE or NOSHOW.
    UNDO = "undo"
    # A waiting customer moving back because they will be late (LATE [minutes]).
    LATE = "late"
    # A customer saying how far away they are (AWAY n).
    AWAY = "away"
    # A provider stopping and resuming today's joins by hand.
    CLOSE = "close"
    OPEN = "open"
    # The provider runs late today: DELAY n [note].
    DELAY = "delay"


class Role(StrEnum):
    CUSTOMER = "customer"
    PROVIDER = "provider"


# Carriers' (and Twilio's) opt-out and opt-in keywords, minus CANCEL: we read CANCEL
# as LEAVE, though on SMS the carrier acts on it first.
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout"})
START_WORDS = frozenset({"start", "unstop", "subscribe", "optin", "resubscribe"})
# Opt-out words that, inside a sentence, can only be about stopping our texts ("end" and
# "quit" are everyday words: "what time does it end").
STOP_MENTIONS = frozenset({"stop", "stopall", "unsubscribe", "optout"})

CUSTOMER_WORDS: dict[str, Command] = {
    "join": Command.JOIN,
    "book": Command.JOIN,
    "signup": Command.JOIN,
    "reserve": Command.JOIN,
    "enroll": Command.JOIN,
    "checkin": Command.JOIN,
    "enqueue": Command.JOIN,
    "status": Command.STATUS,
    "position": Command.STATUS,
    "pos": Command.STATUS,
    "where": Command.STATUS,
    "wait": Command.STATUS,
    "eta": Command.STATUS,
    "leave": Command.LEAVE,
    "cancel": Command.LEAVE,
    "drop": Command.LEAVE,
    "unbook": Command.LEAVE,
    "withdraw": Command.LEAVE,
    "exit": Command.LEAVE,
    "help": Command.HELP,
    "info": Command.HELP,
    "commands": Command.HELP,
    "menu": Command.HELP,
    "options": Command.HELP,
    "here": Command.HERE,
    "omw": Command.HERE,
    "coming": Command.HERE,
    "arrived": Command.HERE,
    "why": Command.WHY,
    "late": Command.LATE,
    "away": Command.AWAY,
}
PROVIDER_WORDS: dict[str, Command] = {
    "queue": Command.QUEUE,
    "list": Command.QUEUE,
    "line": Command.QUEUE,
    "who": Command.QUEUE,
    "status": Command.QUEUE,
    "waiting": Command.QUEUE,
    "next": Command.NEXT,
    "call": Command.NEXT,
    "done": Command.DONE,
    "complete": Command.DONE,
    "completed": Command.DONE,
    "finished": Command.DONE,
    "served": Command.DONE,
    "finish": Command.DONE,
    "noshow": Command.NOSHOW,
    "absent": Command.NOSHOW,
    "missed": Command.NOSHOW,
    "add": Command.ADD,
    "walkin": Command.ADD,
    "stats": Command.STATS,
    "statistics": Command.STATS,
    "report": Command.STATS,
    "undo": Command.UNDO,
    "revert": Command.UNDO,
    "oops": Command.UNDO,
    "close": Command.CLOSE,
    "closed": Command.CLOSE,
    "open": Command.OPEN,
    "reopen": Command.OPEN,
    "delay": Command.DELAY,
    "delayed": Command.DELAY,
    "help": Command.HELP,
    "info": Command.HELP,
    "commands": Command.HELP,
    "menu": Command.HELP,
}
WORDS = {Role.CUSTOMER: CUSTOMER_WORDS, Role.PROVIDER: PROVIDER_WORDS}
DEFAULT_HINTS = {
    Role.CUSTOMER: (Command.JOIN, Command.STATUS, Command.LEAVE),
    Role.PROVIDER: (Command.QUEUE, Command.NEXT, Command.DONE),
}

# Several words meaning one command, folded into that command's word before matching.
PHRASES: dict[tuple[str, ...], str] = {
    ("where", "am", "i"): "status",
    ("am", "i", "next"): "status",
    ("am", "i", "up"): "status",
    ("my", "turn"): "status",
    ("how", "many"): "status",
    ("whats", "my", "position"): "status",
    ("how", "long"): "status",
    ("my", "spot"): "status",
    ("my", "place"): "status",
    ("cant", "make", "it"): "leave",
    ("cannot", "make", "it"): "leave",
    ("can", "not", "make", "it"): "leave",
    ("not", "coming"): "leave",
    ("remove", "me"): "leave",
    ("count", "me", "out"): "leave",
    ("sign", "up"): "signup",
    ("check", "in"): "checkin",
    ("add", "me"): "join",
    ("get", "in", "line"): "join",
    ("line", "up"): "join",
    ("opt", "out"): "optout",
    ("opt", "in"): "optin",
    ("stop", "all"): "stopall",
    ("no", "show"): "noshow",
    ("walk", "in"): "walkin",
    ("call", "next"): "next",
    ("whos", "next"): "queue",
    ("on", "my", "way"): "omw",
    ("on", "the", "way"): "omw",
    ("running", "late"): "late",
    ("minutes", "out"): "away",
    ("mins", "out"): "away",
    ("min", "out"): "away",
}
LONGEST_PHRASE = max(len(p) for p in PHRASES)

# What a message made only of greetings and thanks (and emoji) can hold.
GREETINGS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hiya",
        "yo",
        "heya",
        "howdy",
        "greetings",
        "hola",
        "thanks",
        "thank",
        "thankyou",
        "thx",
        "ty",
        "ta",
        "cheers",
        "you",
        "u",
        "so",
        "much",
        "very",
        "lot",
        "a",
        "ok",
        "okay",
        "k",
        "great",
        "cool",
        "nice",
        "awesome",
        "perfect",
        "good",
        "morning",
        "afternoon",
        "evening",
        "there",
        "all",
        "bye",
        "goodbye",
    }
)

# After a provider's HELP, the words that ask for its second page (HELP MORE).
HELP_MORE_WORDS = frozenset({"more", "2", "all"})

# Words that take what the open question offers ("Next open tomorrow: reply YES").
# "ok" and "thanks" are not among them: they also just acknowledge a refusal.
ACCEPT_WORDS = frozenset({"yes", "y", "yeah", "yep", "yup", "sure"})

FILLERS = frozenset(
    {
        "please",
        "pls",
        "plz",
        "plse",
        "pleas",
        "kindly",
        "hi",
        "hello",
        "hey",
        "hiya",
        "yo",
        "heya",
        "howdy",
        "greetings",
        "thanks",
        "thank",
        "thankyou",
        "thx",
        "ty",
        "cheers",
        "you",
        "u",
        "ok",
        "okay",
        "k",
        "sure",
        "yes",
        "yeah",
        "yep",
        "good",
        "morning",
        "afternoon",
        "evening",
        "i",
        "id",
        "im",
        "ill",
        "ive",
        "me",
        "my",
        "we",
        "us",
        "our",
        "to",
        "want",
        "wanna",
        "would",
        "like",
        "love",
        "can",
        "could",
        "let",
        "lets",
        "need",
        "just",
        "the",
        "a",
        "an",
        "for",
        "at",
        "with",
        "on",
        "in",
        "of",
        "and",
        "also",
        "again",
        "is",
        "am",
        "are",
        "be",
        "do",
        "there",
        "sorry",
        "now",
    }
)

# What a phone that is both a provider's and a customer's can still text as the customer.
CUSTOMER_SIDE = frozenset(
    {
        Command.JOIN,
        Command.STATUS,
        Command.LEAVE,
        Command.HERE,
        Command.WHY,
        Command.LATE,
        Command.AWAY,
    }
)

"""Wording that exists only on Telegram (linking a chat, buttons). Conversation replies
come from the engine (bot.replies), the same as on SMS."""

from __future__ import annotations

SHARE_BUTTON = "Share my phone number"
ASK_FOR_PHONE = (
    "Hi! This waitlist knows people by phone number. "
    "Tap the button below to share yours, then we can carry on."
)
NOT_YOUR_CONTACT = (
    "That is someone else's contact. Please tap the button below to share your own number."
)
NO_PHONE_IN_CONTACT = "That contact has no phone number we can use. Please tap the button below."
LINKED = "Thanks, this chat is now linked to your phone ending {tail}."
LINKED_PROVIDER = "Thanks, this chat is now the console for {name}."
PRIVATE_ONLY = "Please message me in a private chat."
TEXT_ONLY = "I can only read text. Type HELP to see what you can do."
TROUBLE = "Sorry, something went wrong on our side. Please try again in a minute."
SLOW_DOWN = "You are sending messages too fast. Please wait a minute, then send /help."

# Buttons.
JOIN = "Join"
STATUS = "My place"
LEAVE = "Leave"
HELP = "Help"
NEXT = "Next"
DONE = "Done"
NO_SHOW = "No-show"
QUEUE = "Queue"
UNDO = "Undo"
CLOSE = "Close"
OPEN = "Open"
DELAY = "Running 15 min late"
ON_TIME = "Back on time"
LATE = "I'm running late"
HERE = "I'm here / on my way"
WHY = "Why this place?"

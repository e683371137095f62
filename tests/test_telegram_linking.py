"""Linking a chat to a phone: only the sender's own shared contact counts."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from core.locales import say
from core.models import Contact, TelegramLink, User
from core.services import users
from tests.telegram_support import (  # noqa: F401 (fixtures)
    PROVIDER_CONSOLE_WORDS,
    PROVIDER_PHONE,
    bot,
    make_provider,
    telegram_api,
)

ANN = "+14155550101"


def share_button(call) -> dict:
    markup = call.params["reply_markup"]
    return markup["keyboard"][0][0]


async def test_a_first_message_asks_for_the_phone_with_a_contact_button(bot):
    ann = bot.user(ANN)
    await ann.says("/start")
    call = bot.api.last(ann.chat_id)
    assert call.params["text"] == say("tg_ask_for_phone")
    assert share_button(call)["request_contact"] is True
    assert await TelegramLink.all().count() == 0


async def test_someone_elses_contact_is_refused_and_nothing_is_linked(bot):
    ann = bot.user(ANN)
    await ann.shares_contact("+14155550199", owner_id=ann.user_id + 1)
    assert ann.last_text() == say("tg_not_your_contact")
    assert share_button(bot.api.last(ann.chat_id))["request_contact"] is True
    assert await TelegramLink.all().count() == 0
    assert await User.all().count() == 0


async def test_a_contact_card_without_a_telegram_account_is_refused(bot):
    ann = bot.user(ANN)
    message = ann._message(contact={"phone_number": "14155550101", "first_name": "Ann"})
    await bot.deliver({"message": message})
    assert ann.last_text() == say("tg_not_your_contact")
    assert await TelegramLink.all().count() == 0


async def test_sharing_your_own_contact_links_the_chat_and_the_conversation_carries_on(bot):
    # A card whose name does not read as one: the engine asks for it.
    ann = bot.user(ANN, "🙂", None)
    await ann.says("join please")
    await ann.links()
    link = await TelegramLink.get(chat_id=ann.chat_id)
    assert (link.phone, link.telegram_user_id, link.reachable) == (ANN, ann.user_id, True)
    texts_sent = ann.texts()
    assert texts_sent[-2] == say("tg_linked", tail="0101")
    assert bot.api.last(ann.chat_id).params.get("reply_markup") is None  # asked for a name
    # The engine asked for a name; the request made before linking was not forgotten.
    assert "name" in texts_sent[-1].lower()
    # Proactive messages for this phone now go to Telegram.
    assert (await Contact.get(phone=ANN)).preferred_channel == "telegram"


async def test_the_request_made_before_linking_is_carried_out_after_the_name(bot):
    await make_provider()
    ann = bot.user(ANN, "🙂", None)
    await ann.says("/join SPA")
    await ann.links()
    await ann.says("Ann Lee")
    assert "in line at Serene Spa" in ann.last_text()
    assert await User.filter(phone=ANN, name="Ann Lee").exists()


async def test_a_new_customer_is_named_from_the_shared_contact_and_joins_at_once(bot):
    await make_provider()
    ann = bot.user(ANN, "Ann", "Lee")
    await ann.links()
    await ann.says("join spa")
    assert ann.last_text().startswith("You're in line at Serene Spa today")
    assert await User.filter(phone=ANN).values_list("name", flat=True) == ["Ann Lee"]


async def test_the_request_made_before_linking_is_carried_out_with_the_contacts_name(bot):
    await make_provider()
    ann = bot.user(ANN, "ANN", None)
    await ann.says("/join SPA")
    await ann.links()
    assert ann.last_text().startswith("You're in line at Serene Spa today")
    assert await User.filter(phone=ANN).values_list("name", flat=True) == ["Ann"]


async def test_a_shared_contact_does_not_rename_a_registered_customer(bot):
    await users.create_user(name="Ann Bell", phone=ANN)
    ann = bot.user(ANN, "Annie", "Lee-Bell")
    await ann.links()
    assert (await users.get_user(phone=ANN)).name == "Ann Bell"


async def test_a_providers_shared_contact_registers_no_customer(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam", "Spa")
    await spa.links()
    assert not await User.filter(phone=PROVIDER_PHONE).exists()


async def test_a_registered_customer_gets_help_and_buttons_after_linking(bot):
    await users.create_user(name="Ann Lee", phone=ANN)
    ann = bot.user(ANN)
    await ann.links()
    assert "JOIN" in ann.last_text()
    assert set(ann.buttons()) == {say("tg_join"), say("tg_help")}


async def test_a_providers_phone_makes_the_chat_its_console(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    assert spa.texts()[-2] == say("tg_linked_provider", name="Serene Spa")
    assert spa.last_text().startswith("Serene Spa today: 0 waiting")
    assert set(spa.buttons().values()) == PROVIDER_CONSOLE_WORDS


async def test_a_phone_verified_again_from_another_account_takes_the_link_over(bot):
    old, new = bot.user(ANN), bot.user(ANN)
    await old.links()
    await new.links()
    links = await TelegramLink.filter(phone=ANN)
    assert [link.chat_id for link in links] == [new.chat_id]
    await old.says("status")
    assert old.last_text() == say("tg_ask_for_phone")


async def test_a_contact_number_without_a_plus_is_normalised(bot):
    ann = bot.user(ANN)
    await ann.shares_contact("1 415 555 0101")
    assert (await TelegramLink.get(chat_id=ann.chat_id)).phone == ANN


async def test_a_contact_number_that_is_not_a_phone_is_refused(bot):
    ann = bot.user(ANN)
    await ann.shares_contact("12")
    assert ann.last_text() == say("tg_no_phone_in_contact")
    assert await TelegramLink.all().count() == 0


async def test_group_chats_are_told_to_talk_privately(bot):
    ann = bot.user(ANN)
    message = ann._message(text="/join")
    message["chat"] = {"id": -100123, "type": "group", "title": "Friends"}
    await bot.deliver({"message": message})
    assert bot.api.texts(-100123) == [say("tg_private_only")]


async def test_a_photo_gets_a_text_only_hint(bot):
    ann = bot.user(ANN)
    photo = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    await bot.deliver({"message": ann._message(photo=photo)})
    assert ann.last_text() == say("tg_text_only")

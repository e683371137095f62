from core.services import users

async def test_a_created_user_can_be_read_back(orm):
    await users.create_user(name="Ann", phone="+14155550101")
    assert (await users.get_user(phone="+14155550101")).name == "Ann"

"""/users/: customers."""

from __future__ import annotations

from core.models import User
from core.services import appointment_views, users
from webhooks.admin.phone_resources import PhoneResource
from webhooks.schemas import UserCreate, UserDetail, UserOut, UserUpdate

USERS: PhoneResource[User] = PhoneResource(
    path="/users/",
    noun="User",
    plural="Users",
    tag="users",
    create_body=UserCreate,
    update_body=UserUpdate,
    out=UserOut,
    detail=UserDetail,
    create=users.create_user,
    listing=users.list_users,
    get=users.get_user,
    update=users.update_user,
    delete=users.delete_user,
    whose=lambda user: appointment_views.of_user(user.id),
)
OPERATIONS = USERS.operations()

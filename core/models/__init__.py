"""Persistent state (Tortoise ORM), one module per concern; every model is importable
from here, and Tortoise discovers them here (core.db). Rules live in core.rules; use
cases in core.services."""

from core.models.console import (
    ConsoleSession as ConsoleSession,
)
from core.models.console import (
    SignInCode as SignInCode,
)
from core.models.console import (
    StaffPhone as StaffPhone,
)
from core.models.line import (
    Appointment as Appointment,
)
from core.models.line import (
    GraceTimer as GraceTimer,
)
from core.models.line import (
    LineVersion as LineVersion,
)
from core.models.line import (
    ReliabilityScore as ReliabilityScore,
)
from core.models.line import (
    ServiceAccount as ServiceAccount,
)
from core.models.line import (
    Status as Status,
)
from core.models.line import (
    UndoSnapshot as UndoSnapshot,
)
from core.models.line import (
    User as User,
)
from core.models.links import (
    StatusLink as StatusLink,
)
from core.models.messages import (
    Channel as Channel,
)
from core.models.messages import (
    Contact as Contact,
)
from core.models.messages import (
    Conversation as Conversation,
)
from core.models.messages import (
    InboundMessage as InboundMessage,
)
from core.models.messages import (
    InboundRate as InboundRate,
)
from core.models.messages import (
    OutboxMessage as OutboxMessage,
)
from core.models.messages import (
    OutboxStatus as OutboxStatus,
)
from core.models.messages import (
    TelegramLink as TelegramLink,
)
from core.models.pacing import (
    PacingSlot as PacingSlot,
)
from core.models.requests import (
    IdempotencyRecord as IdempotencyRecord,
)
from core.models.retention import (
    MessageCount as MessageCount,
)
from core.models.retention import (
    PruneRun as PruneRun,
)

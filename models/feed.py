"""Secret calendar feed URLs, one scope each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow
from models.enums import FeedScope


class Feed(Base):
    """Only a digest of the token is kept; the URL is rebuilt from ``secret``
    (a random value sealed with the app's key), so a copy of the database alone
    cannot read anyone's agenda."""

    __tablename__ = "feed"
    __table_args__ = (
        Index("ix_feed_owner_id_scope", "owner_id", "scope", "scope_id"),
        # One live feed per owner and scope (migration 0005).
        Index("uq_feed_owner_id_scope_live", "owner_id", "scope", "scope_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    scope: Mapped[FeedScope] = mapped_column(str_enum(FeedScope, "scope"))
    scope_id: Mapped[int]
    secret: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

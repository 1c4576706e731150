import logging
import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.dependencies import hash_token
from app.models import User
from app.schemas import UserCreate

logger = logging.getLogger(__name__)


class EmailAlreadyRegisteredError(Exception):
    pass


async def register_user(session: AsyncSession, data: UserCreate) -> tuple[User, str]:
    """Create the account and return it with its API token (the token itself is never stored)."""
    token = secrets.token_urlsafe(32)
    user = User(
        email=data.email.lower(),
        full_name=data.full_name,
        api_token_hash=hash_token(token),
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise EmailAlreadyRegisteredError(data.email) from exc
    await session.refresh(user)
    logger.info("registered user %s", user.id)
    return user, token


async def rotate_token(session: AsyncSession, user: User) -> str:
    token = secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    await session.commit()
    logger.info("rotated API token of user %s", user.id)
    return token

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.db import DbSession
from app.dependencies import CurrentUser
from app.models import Order, User
from app.schemas import OrderRead, UserCreate, UserCreated, UserRead
from app.services import orders as order_service
from app.services import users as user_service

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def register(data: UserCreate, db: DbSession) -> UserCreated:
    try:
        user, token = await user_service.register_user(db, data)
    except user_service.EmailAlreadyRegisteredError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="Email already registered") from exc
    return UserCreated(**UserRead.model_validate(user).model_dump(), api_token=token)


@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> User:
    return user


@router.post("/me/token", response_model=dict[str, str])
async def rotate_my_token(user: CurrentUser, db: DbSession) -> dict[str, str]:
    token = await user_service.rotate_token(db, user)
    return {"api_token": token}


@router.get("/me/orders", response_model=list[OrderRead])
async def list_my_orders(
    user: CurrentUser,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Sequence[Order]:
    return await order_service.list_orders_for_user(db, user.id, limit=limit, offset=offset)

import logging

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.db import DbSession
from app.dependencies import CurrentUser
from app.models import Order, OrderEvent, OrderStatus, Product, utcnow
from app.schemas import OrderCreate, OrderRead
from app.services import orders as order_service
from app.services.payments import Gateway
from app.settings import SettingsDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", response_model=OrderRead, status_code=status.HTTP_201_CREATED)
async def place_order(
    data: OrderCreate, user: CurrentUser, db: DbSession, settings: SettingsDep
) -> Order:
    return await order_service.place_order(db, user, data, currency=settings.currency)


@router.get("/{order_id}", response_model=OrderRead)
async def get_order(order_id: int, user: CurrentUser, db: DbSession) -> Order:
    order = await order_service.get_order(db, order_id, user_id=user.id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Order not found")
    return order


@router.post("/{order_id}/pay", response_model=OrderRead)
async def pay_order(order_id: int, user: CurrentUser, db: DbSession, gateway: Gateway) -> Order:
    return await order_service.pay_order(db, order_id, user, gateway)


@router.post("/{order_id}/cancel", response_model=OrderRead)
async def cancel_order(order_id: int, user: CurrentUser, db: DbSession) -> Order:
    result = await db.execute(
        select(Order)
        .where(Order.id == order_id, Order.user_id == user.id)
        .options(selectinload(Order.items))
        .with_for_update()
    )
    order = result.scalar_one_or_none()
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Order not found")
    if order.status is not OrderStatus.PENDING:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"Order is {order.status} and cannot be cancelled"
        )

    for item in order.items:
        await db.execute(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + item.quantity)
        )
    await db.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(status=OrderStatus.CANCELLED, cancelled_at=utcnow())
    )
    db.add(
        OrderEvent(order_id=order.id, status=OrderStatus.CANCELLED, note="cancelled by customer")
    )
    await db.commit()
    await db.refresh(order, attribute_names=["status", "cancelled_at", "items"])

    logger.info("user %s cancelled order %s", user.id, order.id)
    return order

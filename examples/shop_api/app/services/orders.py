import logging
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Order, OrderEvent, OrderItem, OrderStatus, Product, User, utcnow
from app.schemas import OrderCreate, PaymentEvent
from app.services.payments import PaymentGateway

logger = logging.getLogger(__name__)

REFUNDABLE_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED})


class OrderError(Exception):
    """Base class for errors the API turns into 4xx responses."""


class OrderNotFoundError(OrderError):
    pass


class ProductUnavailableError(OrderError):
    pass


class InsufficientStockError(OrderError):
    pass


class InvalidOrderStateError(OrderError):
    pass


async def get_order(
    session: AsyncSession, order_id: int, *, user_id: int | None = None
) -> Order | None:
    stmt = select(Order).where(Order.id == order_id).options(selectinload(Order.items))
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    return await session.scalar(stmt)


async def _require_order(
    session: AsyncSession, order_id: int, *, user_id: int | None = None
) -> Order:
    order = await get_order(session, order_id, user_id=user_id)
    if order is None:
        raise OrderNotFoundError(order_id)
    return order


async def list_orders_for_user(
    session: AsyncSession, user_id: int, *, limit: int, offset: int
) -> Sequence[Order]:
    stmt = (
        select(Order)
        .where(Order.user_id == user_id)
        .options(selectinload(Order.items))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    )
    result = await session.scalars(stmt)
    return result.all()


async def place_order(session: AsyncSession, user: User, data: OrderCreate, currency: str) -> Order:
    quantities: dict[int, int] = {}
    for line in data.items:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity

    result = await session.scalars(
        select(Product)
        .where(Product.id.in_(quantities), Product.is_active.is_(True))
        .order_by(Product.id)
        .with_for_update()
    )
    products = {product.id: product for product in result}
    if missing := quantities.keys() - products.keys():
        raise ProductUnavailableError(f"products not available: {sorted(missing)}")
    if short := [p.sku for pid, p in products.items() if p.stock < quantities[pid]]:
        raise InsufficientStockError(f"not enough stock for {', '.join(short)}")

    order = Order(user_id=user.id, currency=currency, total=Decimal("0.00"))
    for product_id, quantity in quantities.items():
        product = products[product_id]
        product.stock -= quantity
        order.items.append(
            OrderItem(product_id=product.id, quantity=quantity, unit_price=product.price)
        )
    order.total = sum((item.unit_price * item.quantity for item in order.items), Decimal("0.00"))
    order.events.append(OrderEvent(status=OrderStatus.PENDING, note="order placed"))
    session.add(order)
    await session.commit()

    logger.info("user %s placed order %s (%s %s)", user.id, order.id, order.total, currency)
    return await _require_order(session, order.id)


async def pay_order(
    session: AsyncSession, order_id: int, user: User, gateway: PaymentGateway
) -> Order:
    order = await _require_order(session, order_id, user_id=user.id)
    if order.status is not OrderStatus.PENDING:
        raise InvalidOrderStateError(f"order {order_id} is {order.status}")

    result = await gateway.charge(order.id, order.total, order.currency)
    order.payment_reference = result.reference
    if result.status == "succeeded":
        order.status = OrderStatus.PAID
        order.paid_at = utcnow()
    session.add(OrderEvent(order_id=order.id, status=order.status, note=f"charge {result.status}"))
    await session.commit()
    return order


async def refund_order(session: AsyncSession, order_id: int, gateway: PaymentGateway) -> Order:
    order = await _require_order(session, order_id)
    if order.status not in REFUNDABLE_STATUSES or order.payment_reference is None:
        raise InvalidOrderStateError(f"order {order_id} is {order.status}")

    await gateway.refund(order.payment_reference, order.total)
    order.status = OrderStatus.REFUNDED
    session.add(OrderEvent(order_id=order.id, status=order.status, note="refunded by support"))
    await session.commit()
    logger.info("refunded order %s", order.id)
    return order


async def apply_payment_event(session: AsyncSession, event: PaymentEvent) -> None:
    """Apply a (verified) provider event; replays and out-of-order events are ignored."""
    order = await session.scalar(select(Order).where(Order.id == event.order_id).with_for_update())
    if order is None:
        logger.warning("payment event %s refers to unknown order %s", event.id, event.order_id)
        return
    if event.amount != order.total:
        logger.error("payment event %s amount does not match order %s", event.id, order.id)
        return

    if event.type == "charge.succeeded" and order.status is OrderStatus.PENDING:
        order.status = OrderStatus.PAID
        order.paid_at = event.created_at
        order.payment_reference = event.payment_reference
    elif event.type == "charge.refunded" and order.status in REFUNDABLE_STATUSES:
        order.status = OrderStatus.REFUNDED
    elif event.type == "charge.failed" and order.status is OrderStatus.PENDING:
        logger.info("charge for order %s failed at the provider", order.id)
    else:
        logger.info("ignoring %s for order %s in status %s", event.type, order.id, order.status)
        return

    session.add(OrderEvent(order_id=order.id, status=order.status, note=f"webhook {event.type}"))
    await session.commit()

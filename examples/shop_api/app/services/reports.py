"""Finance reports. They run on the reporting replica through a synchronous engine,
in a worker thread (see `routers/admin.py`), so they never block the event loop."""

import logging
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from app.models import Order, OrderStatus
from app.schemas import DailySalesReport
from app.settings import get_settings

logger = logging.getLogger(__name__)

SETTLED_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED)


@lru_cache
def _reporting_engine() -> Engine:
    return create_engine(get_settings().sync_database_url, pool_size=2, pool_pre_ping=True)


def build_daily_sales_report(day: date) -> DailySalesReport:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    with Session(_reporting_engine()) as session:
        orders = (
            session.query(Order)
            .filter(Order.status.in_(SETTLED_STATUSES), Order.paid_at >= start, Order.paid_at < end)
            .all()
        )
    revenue = sum((order.total for order in orders), Decimal("0.00"))
    logger.info("daily sales report for %s: %d orders", day, len(orders))
    return DailySalesReport(
        day=day,
        order_count=len(orders),
        revenue=revenue,
        currency=get_settings().currency,
    )

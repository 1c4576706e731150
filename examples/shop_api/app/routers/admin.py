import asyncio
import logging
from datetime import date

from fastapi import APIRouter, Depends, Request

from app.db import DbSession
from app.dependencies import require_admin
from app.models import Order
from app.schemas import DailySalesReport, OrderRead, ProductImportResult, SettlementExport
from app.services import catalog
from app.services import orders as order_service
from app.services.payments import Gateway, export_settlements
from app.services.reports import build_daily_sales_report

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@router.get("/reports/daily-sales/{day}")
async def daily_sales(day: date) -> DailySalesReport:
    return await asyncio.to_thread(build_daily_sales_report, day)


@router.post("/settlements/{day}/export")
async def export_day_settlements(day: date) -> SettlementExport:
    return await export_settlements(day)


@router.post("/orders/{order_id}/refund", response_model=OrderRead)
async def refund_order(order_id: int, db: DbSession, gateway: Gateway) -> Order:
    return await order_service.refund_order(db, order_id, gateway)


@router.post("/products/import", response_model=ProductImportResult)
async def import_products(request: Request, db: DbSession) -> dict[str, int]:
    payload = await request.json()
    result = await catalog.import_products(db, payload)
    logger.info("product import by admin finished: %s", result)
    return result

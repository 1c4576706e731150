import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.db import engine
from app.routers import admin, orders, products, users, webhooks
from app.services.orders import (
    InsufficientStockError,
    InvalidOrderStateError,
    OrderError,
    OrderNotFoundError,
    ProductUnavailableError,
)
from app.services.payments import PaymentError, get_payment_gateway
from app.settings import get_settings

logger = logging.getLogger(__name__)

settings = get_settings()

app = FastAPI(
    title="Shop API",
    version="0.3.0",
    docs_url="/docs" if settings.docs_enabled else None,
    redoc_url=None,
)

app.include_router(users.router)
app.include_router(products.router)
app.include_router(orders.router)
app.include_router(webhooks.router)
app.include_router(admin.router)

_ORDER_ERROR_STATUS: dict[type[OrderError], int] = {
    OrderNotFoundError: status.HTTP_404_NOT_FOUND,
    ProductUnavailableError: status.HTTP_409_CONFLICT,
    InsufficientStockError: status.HTTP_409_CONFLICT,
    InvalidOrderStateError: status.HTTP_409_CONFLICT,
}


@app.exception_handler(OrderError)
async def order_error_handler(request: Request, exc: OrderError) -> JSONResponse:
    code = _ORDER_ERROR_STATUS.get(type(exc), status.HTTP_400_BAD_REQUEST)
    return JSONResponse(status_code=code, content={"detail": str(exc)})


@app.exception_handler(PaymentError)
async def payment_error_handler(request: Request, exc: PaymentError) -> JSONResponse:
    logger.warning("payment provider error on %s: %s", request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_502_BAD_GATEWAY,
        content={"detail": "Payment provider error, please retry later"},
    )


@app.on_event("startup")
async def warm_up() -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    get_payment_gateway()
    logger.info("%s started (%s)", settings.app_name, settings.environment)


@app.on_event("shutdown")
async def close_connections() -> None:
    await get_payment_gateway().aclose()
    await engine.dispose()


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok", "version": app.version}

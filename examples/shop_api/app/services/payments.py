import asyncio
import logging
import time
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import httpx
import requests
from fastapi import Depends

from app.schemas import PaymentResult, SettlementExport
from app.settings import get_settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5


class PaymentError(RuntimeError):
    """The payment provider declined the request or could not be reached."""


class PaymentGateway:
    """Client for the card payment provider's REST API."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._auth_headers = {"Authorization": f"Bearer {api_key}"}
        self._session = requests.Session()
        self._session.headers.update(self._auth_headers)
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            headers=self._auth_headers,
            timeout=httpx.Timeout(timeout),
        )

    async def charge(self, order_id: int, amount: Decimal, currency: str) -> PaymentResult:
        payload = {
            "amount": str(amount),
            "currency": currency,
            "metadata": {"order_id": order_id},
        }
        headers = {"Idempotency-Key": f"order-{order_id}"}
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._session.post(
                    f"{self._base_url}/v1/charges",
                    json=payload,
                    headers=headers,
                    timeout=self._timeout,
                )
            except requests.ConnectionError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise PaymentError(f"provider unreachable, order {order_id}") from exc
                logger.warning("charge for order %s failed (try %d), retrying", order_id, attempt)
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            if response.status_code >= 400:
                raise PaymentError(f"charge for order {order_id} declined: {response.status_code}")
            body = response.json()
            return PaymentResult(reference=body["id"], status=body["status"])
        raise PaymentError(f"charge for order {order_id} was not attempted")

    async def refund(self, reference: str, amount: Decimal) -> PaymentResult:
        response = requests.post(
            f"{self._base_url}/v1/refunds",
            json={"charge": reference, "amount": str(amount)},
            headers={**self._auth_headers, "Idempotency-Key": f"refund-{reference}"},
            timeout=self._timeout,
        )
        if response.status_code >= 400:
            raise PaymentError(f"refund of {reference} failed: {response.status_code}")
        body = response.json()
        return PaymentResult(reference=body["charge"], status=body["status"])

    async def get_charge(self, reference: str) -> PaymentResult:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = await self._client.get(f"/v1/charges/{reference}")
                response.raise_for_status()
            except httpx.TransportError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise PaymentError(f"provider unreachable while reading {reference}") from exc
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            except httpx.HTTPStatusError as exc:
                raise PaymentError(f"cannot read {reference}: {exc.response.status_code}") from exc
            body = response.json()
            return PaymentResult(reference=body["id"], status=body["status"])
        raise PaymentError(f"charge {reference} was not read")

    async def aclose(self) -> None:
        await self._client.aclose()


@lru_cache
def get_payment_gateway() -> PaymentGateway:
    settings = get_settings()
    return PaymentGateway(
        base_url=str(settings.payment_api_url),
        api_key=settings.payment_api_key.get_secret_value(),
        timeout=settings.http_timeout_seconds,
    )


Gateway = Annotated[PaymentGateway, Depends(get_payment_gateway)]


def _read_settlement_file(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read()


async def export_settlements(day: date) -> SettlementExport:
    """Upload the day's settlement CSV to the finance ledger.

    It reuses the synchronous `requests` code of the finance batch jobs, in a worker thread.
    """
    settings = get_settings()
    csv_path = settings.settlement_dir / f"settlements-{day.isoformat()}.csv"
    content = await asyncio.to_thread(_read_settlement_file, csv_path)

    def upload() -> requests.Response:
        return requests.post(
            f"{settings.ledger_api_url}v1/settlements",
            params={"day": day.isoformat()},
            data=content,
            headers={
                "Authorization": f"Bearer {settings.ledger_api_key.get_secret_value()}",
                "Content-Type": "text/csv",
            },
            timeout=settings.http_timeout_seconds,
        )

    response = await asyncio.to_thread(upload)
    if not response.ok:
        raise PaymentError(f"ledger rejected the settlement for {day}: {response.status_code}")
    body = response.json()
    logger.info("exported settlements for %s as batch %s", day, body["batch_id"])
    return SettlementExport(day=day, batch_id=body["batch_id"], order_count=body["rows"])

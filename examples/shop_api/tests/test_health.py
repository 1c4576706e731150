import hashlib
import hmac
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from app.main import app
from app.settings import get_settings


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.mark.anyio
async def test_health(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.anyio
async def test_payment_webhook_rejects_bad_signature(client: AsyncClient) -> None:
    response = await client.post(
        "/webhooks/payments", content=b'{"id": "evt_1"}', headers={"X-Signature": "sha256=00"}
    )

    assert response.status_code == 401


@pytest.mark.anyio
async def test_payment_webhook_rejects_malformed_event(client: AsyncClient) -> None:
    body = b'{"id": "evt_1"}'
    secret = get_settings().payment_webhook_secret.get_secret_value()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    response = await client.post(
        "/webhooks/payments", content=body, headers={"X-Signature": f"sha256={signature}"}
    )

    assert response.status_code == 400


@pytest.mark.anyio
async def test_orders_require_a_token(client: AsyncClient) -> None:
    response = await client.get("/orders/1")

    assert response.status_code in {401, 403}

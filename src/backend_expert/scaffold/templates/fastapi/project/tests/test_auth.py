import pytest
from httpx import AsyncClient

from tests.conftest import sign_up

pytestmark = pytest.mark.anyio


async def test_register_login_and_me(client: AsyncClient) -> None:
    headers = await sign_up(client)
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert "hashed_password" not in body


async def test_email_is_registered_once(client: AsyncClient) -> None:
    await sign_up(client)
    again = {"email": "ADA@example.com", "password": "another long password"}
    response = await client.post("/api/v1/auth/register", json=again)
    assert response.status_code == 409


async def test_wrong_password_is_refused(client: AsyncClient) -> None:
    await sign_up(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "not the password"}
    )
    assert response.status_code == 401


async def test_short_password_is_rejected(client: AsyncClient) -> None:
    weak = {"email": "b@example.com", "password": "short"}
    response = await client.post("/api/v1/auth/register", json=weak)
    assert response.status_code == 422


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
async def test_me_needs_a_valid_token(client: AsyncClient, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401

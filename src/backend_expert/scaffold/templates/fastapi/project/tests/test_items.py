import pytest
from httpx import AsyncClient

from tests.conftest import sign_up

pytestmark = pytest.mark.anyio


async def test_create_list_get_delete(client: AsyncClient) -> None:
    headers = await sign_up(client)
    created = await client.post("/api/v1/items", json={"title": "first"}, headers=headers)
    assert created.status_code == 201
    item = created.json()
    assert item["title"] == "first"
    assert item["description"] is None

    listed = await client.get("/api/v1/items", headers=headers)
    assert [entry["id"] for entry in listed.json()["items"]] == [item["id"]]

    fetched = await client.get(f"/api/v1/items/{item['id']}", headers=headers)
    assert fetched.json() == item

    deleted = await client.delete(f"/api/v1/items/{item['id']}", headers=headers)
    assert deleted.status_code == 204
    missing = await client.get(f"/api/v1/items/{item['id']}", headers=headers)
    assert missing.status_code == 404


async def test_items_are_private_to_their_owner(client: AsyncClient) -> None:
    ada = await sign_up(client, "ada@example.com")
    bob = await sign_up(client, "bob@example.com")
    item = (await client.post("/api/v1/items", json={"title": "ada's"}, headers=ada)).json()
    assert (await client.get(f"/api/v1/items/{item['id']}", headers=bob)).status_code == 404
    assert (await client.get("/api/v1/items", headers=bob)).json()["items"] == []


async def test_items_need_authentication(client: AsyncClient) -> None:
    response = await client.post("/api/v1/items", json={"title": "anonymous"})
    assert response.status_code == 401


async def test_paging_is_bounded(client: AsyncClient) -> None:
    headers = await sign_up(client)
    response = await client.get("/api/v1/items", params={"limit": 1000}, headers=headers)
    assert response.status_code == 422

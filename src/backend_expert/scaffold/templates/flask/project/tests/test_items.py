from flask.testing import FlaskClient

from tests.conftest import ADA, BOB, basic


def test_create_list_update_delete(client: FlaskClient) -> None:
    created = client.post("/api/v1/items", json={"title": "first"}, headers=ADA)
    assert created.status_code == 201
    item = created.get_json()

    listed = client.get("/api/v1/items", headers=ADA).get_json()
    assert [entry["id"] for entry in listed["items"]] == [item["id"]]

    patched = client.patch(f"/api/v1/items/{item['id']}", json={"title": "renamed"}, headers=ADA)
    assert patched.get_json()["title"] == "renamed"

    assert client.delete(f"/api/v1/items/{item['id']}", headers=ADA).status_code == 204
    assert client.get(f"/api/v1/items/{item['id']}", headers=ADA).status_code == 404


def test_items_are_private(client: FlaskClient) -> None:
    item = client.post("/api/v1/items", json={"title": "ada's"}, headers=ADA).get_json()
    assert client.get(f"/api/v1/items/{item['id']}", headers=BOB).status_code == 404
    assert client.get("/api/v1/items", headers=BOB).get_json()["items"] == []


def test_invalid_bodies_are_rejected(client: FlaskClient) -> None:
    response = client.post("/api/v1/items", json={"title": ""}, headers=ADA)
    assert response.status_code == 422


def test_credentials_are_required(client: FlaskClient) -> None:
    assert client.post("/api/v1/items", json={"title": "anonymous"}).status_code == 401
    wrong = basic("ada", "not the password")
    assert client.get("/api/v1/items", headers=wrong).status_code == 401

import pytest


@pytest.mark.django_db
def test_health_answers(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

import pytest
from django.contrib.auth import get_user_model

pytestmark = [pytest.mark.urls("tests.common.urls"), pytest.mark.django_db]


@pytest.fixture
def users() -> list:
    return [get_user_model().objects.create(username=f"user{i:02d}") for i in range(5)]


class TestLimit:
    @pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "2.5", ""])
    def test_a_limit_outside_1_to_1000_is_refused(self, api_client, users, limit: str) -> None:
        response = api_client.get("/api/test/users/", {"limit": limit})

        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"limit": ["Must be a whole number from 1 to 1000."]}

    def test_a_malformed_cursor_is_a_400(self, api_client, users) -> None:
        response = api_client.get("/api/test/users/", {"cursor": "not-a-cursor"})

        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"cursor": ["Invalid cursor; use the next/previous links."]}

    def test_pages_follow_the_cursor_without_gaps_or_repeats(self, api_client, users) -> None:
        seen: list[str] = []
        url = "/api/test/users/?limit=2&ordering=username"
        while url:
            body = api_client.get(url).json()
            assert len(body["results"]) <= 2
            seen += [row["username"] for row in body["results"]]
            url = body["next"]

        assert seen == sorted(u.username for u in users)


class TestOrdering:
    def test_whitelisted_descending_ordering_is_applied(self, api_client, users) -> None:
        body = api_client.get("/api/test/users/", {"ordering": "-username", "limit": 3}).json()

        assert [row["username"] for row in body["results"]] == ["user04", "user03", "user02"]

    @pytest.mark.parametrize("ordering", ["password", "username,password", "-is_superuser", "id;drop"])
    def test_a_field_outside_the_whitelist_is_refused(self, api_client, users, ordering: str) -> None:
        response = api_client.get("/api/test/users/", {"ordering": ordering})

        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert "ordering" in error["fields"]

import pytest
from django.test import override_settings

from reserves import services
from reserves.models import ApprovalRequest

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_the_hourly_requester_limit_is_kept_in_redis_when_configured(redis_url, release_request) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    with override_settings(REDIS_URL=redis_url, RESERVES_APPROVAL_MAX_PER_REQUESTER_HOUR=2):
        release_request(amount="1.00")
        release_request(amount="2.00")
        # Redis, not the database, remembers: with the rows gone a count would allow more.
        ApprovalRequest.objects.all().delete()

        with pytest.raises(services.ApprovalRateLimited) as refused:
            release_request(amount="3.00")

    assert refused.value.fields == {"limit": "per_requester_hour"}
    assert not ApprovalRequest.objects.exists()

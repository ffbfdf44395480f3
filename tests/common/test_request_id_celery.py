import logging

import pytest
from kombu import Connection

from common.request_id import _request_id, get_request_id
from config.celery_app import app


@app.task(name="tests.report_request_id")
def report_request_id() -> str:
    logging.getLogger("tests.task").info("inside the task")
    return get_request_id()


@pytest.fixture
def memory_broker(settings):  # noqa: ANN001, ANN201
    original = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = "memory://", False
    yield
    app.conf.broker_url, app.conf.task_always_eager = original


class TestRequestIdInTasks:
    def test_a_task_started_by_a_request_carries_its_id_in_the_message(self, memory_broker) -> None:
        token = _request_id.set("req-from-the-web-1234")
        try:
            with Connection("memory://") as connection:
                report_request_id.apply_async(connection=connection, queue="rid")
                message = connection.SimpleQueue("rid").get(timeout=10)
        finally:
            _request_id.reset(token)

        assert message.headers["strongroom_request_id"] == "req-from-the-web-1234"

    def test_the_worker_adopts_the_id_and_logs_with_it(self, caplog) -> None:
        caplog.set_level(logging.INFO)

        result = report_request_id.apply(headers={"strongroom_request_id": "req-from-the-web-1234"})

        assert result.get() == "req-from-the-web-1234"
        assert get_request_id() == ""  # restored after the task

    def test_a_task_without_a_request_gets_an_id_of_its_own(self) -> None:
        assert len(report_request_id.apply().get()) == 32

"""The chain primitives alone (audit/offline.py): hashing, verification, and what breaks it."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.offline import GENESIS_PREV_HASH, HASHED_FIELDS, canonical_data, canonical_event, event_hash, verify_chain

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63) | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=12,
)
_payload = st.fixed_dictionaries(
    {
        "occurred_at": st.just("2026-11-22T10:00:00.000001Z"),
        "actor_kind": st.sampled_from(["staff", "system", "api_client"]),
        "actor_id": _text,
        "actor_label": _text,
        "action": st.sampled_from(["ledger.entry.posted", "auth.login.failed", "vault.card.tokenized"]),
        "object_type": _text,
        "object_id": _text,
        "tenant": _text,
        "request_id": _text,
        "ip": st.sampled_from(["", "127.0.0.1", "2001:db8::1"]),
        "user_agent": _text,
        "data": st.dictionaries(_text, _json, max_size=5),
    }
)


def build_chain(payloads: list[dict]) -> list[dict]:
    events, previous = [], GENESIS_PREV_HASH
    for index, payload in enumerate(payloads, 1):
        event = {
            **payload,
            "id": index * 3,
            "sequence": index,
            "prev_hash": previous,
            "data": canonical_data(payload["data"]),
        }
        event["hash"] = previous = event_hash(event)
        events.append(event)
    return events


class TestCanonicalForm:
    @settings(max_examples=200)
    @given(payload=_payload)
    def test_the_fast_template_equals_plain_sorted_json(self, payload: dict) -> None:
        [event] = build_chain([payload])

        plain = {name: event[name] for name in HASHED_FIELDS} | {"data": json.loads(event["data"])}
        assert canonical_event(event) == json.dumps(plain, sort_keys=True, separators=(",", ":"))


class TestVerifyChain:
    @settings(max_examples=100)
    @given(payloads=st.lists(_payload, min_size=1, max_size=12))
    def test_any_sequence_of_appends_verifies(self, payloads: list[dict]) -> None:
        report = verify_chain(build_chain(payloads))

        assert report.ok
        assert report.checked == len(payloads)

    @settings(max_examples=300)
    @given(
        payloads=st.lists(_payload, min_size=1, max_size=8),
        data=st.data(),
    )
    def test_any_single_mutation_is_detected_at_that_event(self, payloads: list[dict], data: st.DataObject) -> None:
        events = build_chain(payloads)
        index = data.draw(st.integers(min_value=0, max_value=len(events) - 1))
        column = data.draw(st.sampled_from([*HASHED_FIELDS, "hash"]))
        original = events[index][column]
        if column in {"id", "sequence"}:
            mutated = original + data.draw(st.integers(min_value=1, max_value=5))
        elif column == "data":
            mutated = canonical_data({**json.loads(original), "tampered": True})
        else:
            mutated = data.draw(_text.filter(lambda t: t != original))
        events[index] = {**events[index], column: mutated}

        report = verify_chain(events)

        assert not report.ok
        assert report.broken.sequence == index + 1

    def test_a_missing_event_is_reported_as_a_gap(self) -> None:
        events = build_chain([dict.fromkeys(_payload_keys(), "") | {"data": {}}] * 3)
        del events[1]

        report = verify_chain(events)

        assert (report.broken.sequence, report.broken.reason) == (2, "gap")


def _payload_keys() -> list[str]:
    return [n for n in HASHED_FIELDS if n not in {"id", "sequence", "prev_hash"}]

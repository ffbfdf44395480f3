import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from reserves.services import canonical_json, payload_hash

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner))
payloads = st.dictionaries(st.text(max_size=10), values, max_size=6)


@given(payloads, st.randoms())
def test_the_hash_ignores_key_order_and_is_sha256_of_the_canonical_text(payload, random) -> None:
    items = list(payload.items())
    random.shuffle(items)

    assert payload_hash(dict(items)) == payload_hash(payload)
    assert payload_hash(payload) == hashlib.sha256(canonical_json(payload).encode()).hexdigest()
    assert json.loads(canonical_json(payload)) == payload


@given(payloads)
def test_adding_a_field_changes_the_hash(payload) -> None:
    changed = {**payload, "__changed__": 1}  # 11 characters: never a generated key
    assert payload_hash(changed) != payload_hash(payload)

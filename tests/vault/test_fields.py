import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from vault import keys
from vault.fields import DataUndecryptable, EncryptedTextField, envelope_version, field_decrypt, field_encrypt
from vault.services import encrypted_fields_rewrap, key_rotate

EMAIL = "ada@example.com"


@pytest.mark.django_db
class TestFieldEncryptionServices:
    def test_a_value_round_trips_and_is_stored_as_a_versioned_envelope(self) -> None:
        envelope = field_encrypt(plaintext=EMAIL, context="customers.customer.email")

        assert envelope.startswith("srv1.1.") and EMAIL not in envelope
        assert field_decrypt(envelope=envelope, context="customers.customer.email") == EMAIL

    def test_each_encryption_is_different(self) -> None:
        assert field_encrypt(plaintext=EMAIL, context="c") != field_encrypt(plaintext=EMAIL, context="c")

    def test_an_envelope_moved_to_another_field_fails(self) -> None:
        envelope = field_encrypt(plaintext=EMAIL, context="customers.customer.email")

        with pytest.raises(DataUndecryptable) as caught:
            field_decrypt(envelope=envelope, context="customers.customer.phone")

        assert caught.value.code == "data_undecryptable"

    @pytest.mark.parametrize("envelope", ["plain text", "srv1.x.y", "srv1.1.AAAA.BBBB.CCCC"])
    def test_garbage_is_refused(self, envelope: str) -> None:
        with pytest.raises(DataUndecryptable):
            field_decrypt(envelope=envelope, context="c")

    def test_old_envelopes_still_decrypt_after_rotation(self, actor) -> None:
        old = field_encrypt(plaintext=EMAIL, context="c")

        key_rotate(purpose="kek", actor=actor)

        assert (envelope_version(old), envelope_version(field_encrypt(plaintext="x", context="c"))) == (1, 2)
        assert field_decrypt(envelope=old, context="c") == EMAIL


@pytest.mark.django_db(transaction=True)
class TestEncryptedTextField:
    @pytest.fixture
    def customer_model(self):  # noqa: ANN201
        with isolate_apps("vault"):

            class Customer(models.Model):  # noqa: DJ008
                email = EncryptedTextField()
                note = EncryptedTextField(null=True, blank=True)

                class Meta:
                    app_label = "vault"
                    db_table = "vault_test_customer"

        with connection.schema_editor() as editor:
            editor.create_model(Customer)
        yield Customer
        with connection.schema_editor() as editor:
            editor.delete_model(Customer)

    def _raw(self, pk: int) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT email FROM vault_test_customer WHERE id = %s", [pk])
            return cursor.fetchone()[0]

    def test_the_column_holds_an_envelope_and_the_model_sees_plaintext(self, customer_model) -> None:
        customer = customer_model.objects.create(email=EMAIL, note=None)

        loaded = customer_model.objects.get(pk=customer.pk)

        assert (loaded.email, loaded.note) == (EMAIL, None)
        assert self._raw(customer.pk).startswith("srv1.1.") and EMAIL not in self._raw(customer.pk)
        assert customer_model._meta.get_field("email").context == "vault.customer.email"

    def test_rewrap_moves_values_to_the_newest_kek(self, customer_model, actor) -> None:
        rows = [customer_model.objects.create(email=f"user{i}@example.com") for i in range(5)]
        key_rotate(purpose="kek", actor=actor)

        count = encrypted_fields_rewrap(actor=actor, batch_size=2, models_=[customer_model])
        keys.reset_caches()

        assert count == 5
        assert {envelope_version(self._raw(row.pk)) for row in rows} == {2}
        assert [customer_model.objects.get(pk=row.pk).email for row in rows] == [
            f"user{i}@example.com" for i in range(5)
        ]

"""Password rules beyond Django's: letters and digits (PCI DSS 8.3.6), not one of the last N (8.3.7)."""

from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError


class LettersAndDigitsValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise ValidationError("The password must contain both letters and digits.", code="password_letters_digits")

    def get_help_text(self) -> str:
        return "Your password must contain both letters and digits."


class PasswordHistoryValidator:
    def __init__(self, remember: int = 4) -> None:
        self.remember = remember

    def _recent(self, user: Any) -> list[str]:
        from common.models import PasswordHistory

        if user is None or user.pk is None:
            return []
        return list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-changed_at", "-pk")
            .values_list("password_hash", flat=True)[: self.remember]
        )

    def validate(self, password: str, user: Any = None) -> None:
        if any(check_password(password, old) for old in self._recent(user)):
            raise ValidationError(
                f"The password must differ from your last {self.remember} passwords.", code="password_reused"
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        """Django calls this after a password is saved: remember its hash."""
        from common.models import PasswordHistory

        if user is not None and user.pk is not None:
            PasswordHistory.objects.create(user=user, password_hash=make_password(password))

    def get_help_text(self) -> str:
        return f"Your password must differ from your last {self.remember} passwords."

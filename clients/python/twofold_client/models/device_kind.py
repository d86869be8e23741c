from enum import StrEnum


class DeviceKind(StrEnum):
    HOTP = "hotp"
    SMS = "sms"
    TOTP = "totp"
    WEBAUTHN = "webauthn"
    YUBICO = "yubico"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class Method(StrEnum):
    HOTP = "hotp"
    RECOVERY = "recovery"
    SMS = "sms"
    TOTP = "totp"
    WEBAUTHN = "webauthn"
    YUBICO_OTP = "yubico_otp"

    def __str__(self) -> str:
        return str(self.value)

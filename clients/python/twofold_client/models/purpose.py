from enum import StrEnum


class Purpose(StrEnum):
    ENROLL = "enroll"
    VERIFY = "verify"

    def __str__(self) -> str:
        return str(self.value)

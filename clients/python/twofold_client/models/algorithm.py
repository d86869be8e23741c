from enum import StrEnum


class Algorithm(StrEnum):
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"

    def __str__(self) -> str:
        return str(self.value)

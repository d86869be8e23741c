from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLIENT = "client"

    def __str__(self) -> str:
        return str(self.value)

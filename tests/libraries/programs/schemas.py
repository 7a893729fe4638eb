"""The pydantic models of models.py, in a module of their own as a service keeps them."""
from typing import List

from pydantic import BaseModel, SecretStr


class Address(BaseModel):
    street: str
    city: str


class User(BaseModel):
    name: str
    password: SecretStr
    key: SecretStr
    address: Address
    tags: List[str] = []

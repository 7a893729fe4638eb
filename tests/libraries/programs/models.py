"""A service whose input does not validate: pydantic models, nested, with secrets."""
from schemas import Address, User
from pydantic import SecretStr


def register(payload):
    user = User(name="alice", password=SecretStr("model-pass-1357"), key=SecretStr("model-key-8642"),
                address=Address(street="1 Main St", city="Springfield"), tags=["admin"])
    return user.model_copy(update={"address": Address.model_validate(payload)})


register({"street": 12})

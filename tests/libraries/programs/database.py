"""A job that looks up an account that is not there: a SQLAlchemy engine on sqlite (in the
folder it runs in), a session with ORM instances in it, and an engine for a server with a
password in its URL, never connected."""
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import offline_dbapi
from ledger import Account, Base


def find(session, name):
    return session.scalars(select(Account).where(Account.name == name)).one()


engine = create_engine("sqlite:///ledger.sqlite")
# Its driver is not installed here: SQLAlchemy takes the DBAPI module it is given.
remote = create_engine("postgresql+pg8000://app:db-pass-9753@db.internal:5432/prod", module=offline_dbapi)
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add_all([Account(id=1, name="alice"), Account(id=2, name="bob")])
    session.flush()
    first = session.scalars(select(Account)).first()
    find(session, "carol")

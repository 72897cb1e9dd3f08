"""Per-application PostgreSQL roles: the roles, their passwords and the ``psql`` script.

Each application (MLflow, the vector store) signs in with its own role, which may use its own
database only. :func:`bootstrap_sql` is run by the server administrator (see
:mod:`components.data.db_roles_job`) and is idempotent, so it runs again safely:

- the role is created when missing (a ``DO`` block: PostgreSQL has no ``CREATE ROLE IF NOT
  EXISTS``) and its password (re)set from the file the Secrets Store CSI driver mounts — the
  value never appears in the script or in the Job's environment;
- ``REVOKE ALL ON DATABASE ... FROM PUBLIC``: no other role may connect (PostgreSQL grants
  ``CONNECT`` and ``TEMPORARY`` to ``PUBLIC`` by default); the app role gets ``CONNECT``,
  ``CREATE`` and ``TEMPORARY`` on its own database;
- in that database the app role owns schema ``public`` (where MLflow and the collection's
  table live), and takes over what the administrator created there before the roles existed
  (e.g. tables of an earlier MLflow run as the administrator), so the app can migrate them;
- extensions the app needs (``vector``) are created by the administrator: Flexible Server lets
  only members of ``azure_pg_admin`` create allow-listed extensions.

Why the administrator becomes a member of each app role: changing an object's owner requires
being able to ``SET ROLE`` to the new owner (on PostgreSQL 16+ the role's creator only holds
``ADMIN OPTION``). The administrator can already do everything the app roles can.

Flexible Server's administrator is not a superuser (``azure_pg_admin``, ``CREATEROLE``,
``CREATEDB``), so the script never touches ``SUPERUSER``, ``REPLICATION`` or ``BYPASSRLS``
(changing those needs a superuser) and checks up front that it holds the owner's privileges
on each database, failing with the owner's name otherwise.
https://learn.microsoft.com/azure/postgresql/security/security-access-control
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_EXTENSION = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ADMIN_DATABASE = "postgres"
"""Database the script connects to first (every flexible server has it)."""
PASSWORD_LENGTH = 40


@dataclass(frozen=True, kw_only=True)
class AppRole:
    """One application's login and the one database it may use."""

    key: str
    """Stable logical name (``mlflow``, ``vectors``)."""
    role: str
    """PostgreSQL role (login) name."""
    database: str
    """The database the role may use."""
    extensions: tuple[str, ...] = field(default=())
    """Extensions the administrator creates in that database (e.g. ``vector``)."""

    @property
    def password_variable(self) -> str:
        """psql variable holding the password while the script runs."""
        return f"{self.role}_password"

    @property
    def password_file_env(self) -> str:
        """Environment variable naming the file with the role's password."""
        return f"{self.key.upper()}_PASSWORD_FILE"


MLFLOW = AppRole(key="mlflow", role="mlflow_app", database="mlflow")
"""MLflow's tracking store."""
VECTORS = AppRole(key="vectors", role="vectors_app", database="vectors", extensions=("vector",))
"""The pgvector collection (schema job, ingestion)."""


def password_secret_name(app: AppRole) -> str:
    """Key Vault secret holding an app role's password."""
    return f"postgres-{app.key}-password"


def generate_password(name: str) -> pulumi.Output[str]:
    """A random role password (kept in state encrypted, marked secret).

    Letters and digits only: it passes through psql variables, a URL (MLflow) and files
    without any quoting question; 40 of them are ~238 bits.
    """
    password = random.RandomPassword(name, length=PASSWORD_LENGTH, special=False)
    return pulumi.Output.secret(password.result)


def _check(apps: Sequence[AppRole]) -> None:
    if not apps:
        raise ValueError("at least one application role is needed")
    for app in apps:
        for what, value in (("role", app.role), ("database", app.database), ("key", app.key)):
            if not _IDENTIFIER.match(value):
                raise ValueError(f"{what} ({value!r}) must be a lowercase SQL identifier")
        for extension in app.extensions:
            if not _EXTENSION.match(extension):
                raise ValueError(f"extension ({extension!r}) must be a lowercase identifier")
    for what in ("key", "role", "database"):
        values = [getattr(app, what) for app in apps]
        if len(set(values)) != len(values):
            raise ValueError(f"each application needs its own {what} ({values})")


def _preflight(apps: Sequence[AppRole]) -> str:
    names = ", ".join(f"'{app.database}'" for app in apps)
    return f"""\
-- Every database exists and the administrator holds its owner's privileges.
DO $$
DECLARE
    wanted text[] := ARRAY[{names}];
    found record;
BEGIN
    FOR found IN
        SELECT w.name, d.datdba
        FROM unnest(wanted) AS w(name)
        LEFT JOIN pg_catalog.pg_database AS d ON d.datname = w.name
    LOOP
        IF found.datdba IS NULL THEN
            RAISE EXCEPTION 'database % does not exist', found.name;
        END IF;
        IF NOT pg_catalog.pg_has_role(current_user, found.datdba, 'USAGE') THEN
            RAISE EXCEPTION 'database % is owned by %, so % cannot grant on it',
                found.name, pg_catalog.pg_get_userbyid(found.datdba), current_user;
        END IF;
    END LOOP;
END
$$;
"""


def _role(app: AppRole) -> str:
    return f"""\
-- {app.key}: role {app.role}, database {app.database}
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{app.role}') THEN
        CREATE ROLE {app.role} LOGIN;
    END IF;
END
$$;
ALTER ROLE {app.role} WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT
    PASSWORD :'{app.password_variable}';
GRANT {app.role} TO CURRENT_USER;
REVOKE ALL ON DATABASE {app.database} FROM PUBLIC;
GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {app.database} TO {app.role};
"""


def _database(app: AppRole) -> str:
    extensions = "".join(f"CREATE EXTENSION IF NOT EXISTS {e};\n" for e in app.extensions)
    return f"""\
\\connect {app.database}
{extensions}CREATE SCHEMA IF NOT EXISTS public;
ALTER SCHEMA public OWNER TO {app.role};
-- Hand over what the administrator created in public before the role existed (not extension
-- members, not sequences owned by a column: those follow their table).
DO $$
DECLARE
    obj record;
BEGIN
    FOR obj IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_catalog.pg_get_userbyid(c.relowner) = current_user
          AND NOT EXISTS (
              SELECT FROM pg_catalog.pg_depend AS d
              WHERE d.classid = 'pg_catalog.pg_class'::regclass
                AND d.objid = c.oid
                AND d.deptype IN ('a', 'i', 'e')
          )
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', obj.kind, obj.name, '{app.role}');
    END LOOP;
END
$$;
"""


def bootstrap_sql(apps: Sequence[AppRole]) -> str:
    """The idempotent psql script that creates and scopes every role in ``apps``.

    Run it with ``psql --set ON_ERROR_STOP=1`` connected to :data:`ADMIN_DATABASE` as the
    administrator, with each ``<KEY>_PASSWORD_FILE`` environment variable naming the file that
    holds that role's password (psql strips the trailing newline).
    """
    _check(apps)
    passwords = "".join(
        f'\\set {app.password_variable} `cat "${app.password_file_env}"`\n' for app in apps
    )
    roles = "\n".join(_role(app) for app in apps)
    databases = "\n".join(_database(app) for app in apps)
    return f"{passwords}\n{_preflight(apps)}\n{roles}\n{databases}"

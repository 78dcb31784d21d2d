"""Which database engines a project targets, read from its head tree (never executed), bounded in files,
bytes and time, cached per commit.

Sources, each read with short line-bounded regexes: Rails `config/database.yml` adapters and Gemfile
driver gems, Django `DATABASES` ENGINE strings and database URLs in settings modules, Python driver
requirements, Prisma `datasource` providers, knex/TypeORM/Sequelize `client`/`type`/`dialect` in their
config files, JavaScript driver dependencies, Go driver modules in go.mod, and docker-compose service
images. What only tests, development or examples use is left out (a test database, a `group :test`
gem, a `development:` section): it does not say what the migrations run on in production.
"""

from __future__ import annotations

import json
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.repo import RepoAccessError, RepoView
from bot.facts.budgeted_read import read_within_budget
from bot.facts.commit_cache import CommitCache

POSTGRESQL = "postgresql"
MYSQL = "mysql"
SQLITE = "sqlite"
SQLSERVER = "sqlserver"
ORACLE = "oracle"
COCKROACHDB = "cockroachdb"
ENGINE_NAMES = {
    POSTGRESQL: "PostgreSQL",
    MYSQL: "MySQL",
    SQLITE: "SQLite",
    SQLSERVER: "SQL Server",
    ORACLE: "Oracle",
    COCKROACHDB: "CockroachDB",
}
MAX_LINE = 400


@dataclass(frozen=True)
class DatabaseBudget:
    max_files: int = 60
    max_bytes: int = 1_500_000
    max_seconds: float = 2.0
    max_file_bytes: int = 300_000


@dataclass(frozen=True)
class Source:
    """One place that names an engine."""

    engine: str
    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


@dataclass
class DatabaseFacts:
    """The places that name an engine, in reading order, and what was left unread."""

    sources: list[Source] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    not_read: list[str] = field(default_factory=list)

    @property
    def engines(self) -> frozenset[str]:
        return frozenset(s.engine for s in self.sources)

    def add(self, engine: str, path: str, why: str) -> None:
        source = Source(engine, path, why)
        if source not in self.sources:
            self.sources.append(source)

    def sources_for(self, path: str) -> list[Source]:
        """The sources that speak for a file at `path`: in a monorepo whose packages name their own engines,
        those of the packages that contain it (and the root's); otherwise all of them."""
        folder = posixpath.dirname(path)
        nested = [s for s in self.sources if _contains(posixpath.dirname(s.path), folder)]
        if any(posixpath.dirname(s.path) for s in nested):
            return nested
        return list(self.sources)

    def engines_for(self, path: str) -> frozenset[str]:
        return frozenset(s.engine for s in self.sources_for(path))

    def where(self, engine: str, path: str = "") -> str:
        """The first place that names `engine` (for `path`), for a finding's evidence."""
        found = next((s for s in self.sources_for(path) if s.engine == engine), None)
        return str(found) if found else ENGINE_NAMES.get(engine, engine)


def _contains(folder: str, path_folder: str) -> bool:
    return not folder or path_folder == folder or path_folder.startswith(folder + "/")


# what a name says about the engine, per source
_RAILS_ADAPTERS = {
    "postgresql": POSTGRESQL, "postgis": POSTGRESQL, "jdbcpostgresql": POSTGRESQL, "mysql2": MYSQL, "trilogy": MYSQL,
    "mysql": MYSQL, "jdbcmysql": MYSQL, "sqlite3": SQLITE, "jdbcsqlite3": SQLITE, "sqlserver": SQLSERVER,
    "oracle_enhanced": ORACLE, "cockroachdb": COCKROACHDB,
}
_GEMS = {
    "pg": POSTGRESQL, "activerecord-postgis-adapter": POSTGRESQL, "mysql2": MYSQL, "trilogy": MYSQL,
    "sqlite3": SQLITE, "activerecord-sqlserver-adapter": SQLSERVER, "activerecord-oracle_enhanced-adapter": ORACLE,
}
_DJANGO_BACKENDS = {
    "postgresql": POSTGRESQL, "postgresql_psycopg2": POSTGRESQL, "postgis": POSTGRESQL, "mysql": MYSQL,
    "sqlite3": SQLITE, "spatialite": SQLITE, "oracle": ORACLE,
}
_URL_SCHEMES = {
    "postgres": POSTGRESQL, "postgresql": POSTGRESQL, "postgis": POSTGRESQL, "pgsql": POSTGRESQL, "mysql": MYSQL,
    "mariadb": MYSQL, "sqlite": SQLITE, "sqlite3": SQLITE, "mssql": SQLSERVER, "oracle": ORACLE,
    "cockroachdb": COCKROACHDB,
}
_PY_DRIVERS = {
    "psycopg2": POSTGRESQL, "psycopg2-binary": POSTGRESQL, "psycopg": POSTGRESQL, "psycopg-binary": POSTGRESQL,
    "asyncpg": POSTGRESQL, "pg8000": POSTGRESQL, "mysqlclient": MYSQL, "pymysql": MYSQL, "aiomysql": MYSQL,
    "mysql-connector-python": MYSQL, "asyncmy": MYSQL, "aiosqlite": SQLITE, "mssql-django": SQLSERVER,
    "pyodbc": SQLSERVER, "oracledb": ORACLE, "cx-oracle": ORACLE,
}
_JS_CLIENTS = {
    "pg": POSTGRESQL, "postgres": POSTGRESQL, "postgresql": POSTGRESQL, "pg-native": POSTGRESQL,
    "mysql": MYSQL, "mysql2": MYSQL, "mariadb": MYSQL, "sqlite": SQLITE, "sqlite3": SQLITE,
    "better-sqlite3": SQLITE, "mssql": SQLSERVER, "tedious": SQLSERVER, "oracledb": ORACLE, "oracle": ORACLE,
    "cockroachdb": COCKROACHDB,
}
_JS_DRIVER_PACKAGES = {
    "pg": POSTGRESQL, "postgres": POSTGRESQL, "pg-promise": POSTGRESQL, "@neondatabase/serverless": POSTGRESQL,
    "mysql": MYSQL, "mysql2": MYSQL, "mariadb": MYSQL, "sqlite3": SQLITE, "better-sqlite3": SQLITE,
    "@libsql/client": SQLITE, "tedious": SQLSERVER, "mssql": SQLSERVER, "oracledb": ORACLE,
}
_PRISMA_PROVIDERS = {
    "postgresql": POSTGRESQL, "postgres": POSTGRESQL, "mysql": MYSQL, "sqlite": SQLITE, "sqlserver": SQLSERVER,
    "cockroachdb": COCKROACHDB,
}
_GO_MODULES = (
    ("github.com/lib/pq", POSTGRESQL), ("github.com/jackc/pgx", POSTGRESQL), ("gorm.io/driver/postgres", POSTGRESQL),
    ("github.com/go-pg/pg", POSTGRESQL), ("github.com/uptrace/bun/dialect/pgdialect", POSTGRESQL),
    ("github.com/go-sql-driver/mysql", MYSQL), ("gorm.io/driver/mysql", MYSQL),
    ("github.com/mattn/go-sqlite3", SQLITE), ("modernc.org/sqlite", SQLITE), ("gorm.io/driver/sqlite", SQLITE),
    ("github.com/glebarez/go-sqlite", SQLITE), ("github.com/glebarez/sqlite", SQLITE),
    ("github.com/ncruces/go-sqlite3", SQLITE), ("zombiezen.com/go/sqlite", SQLITE),
    ("github.com/microsoft/go-mssqldb", SQLSERVER), ("github.com/denisenkom/go-mssqldb", SQLSERVER),
    ("gorm.io/driver/sqlserver", SQLSERVER),
)
_IMAGES = {
    "postgres": POSTGRESQL, "postgis": POSTGRESQL, "timescaledb": POSTGRESQL, "pgvector": POSTGRESQL,
    "mysql": MYSQL, "mariadb": MYSQL, "percona": MYSQL, "mssql": SQLSERVER, "cockroach": COCKROACHDB,
}

# which files to read
_SKIP_DIRS = re.compile(
    r"(^|/)(node_modules|vendor|\.venv|venv|site-packages|dist|build|docs?|examples?|_examples?|samples?|templates|"
    r"[^/]*tests?[^/]*|testing[^/]*|testdata|spec|specs|e2e|cypress|fixtures?|\.github)/",
    re.IGNORECASE,
)
_DEV_ONLY_NAME = re.compile(r"(^|[._-])(test|tests|testing|ci|e2e|dev|devel|development|local|lint|docs?)([._-]|$)",
                            re.IGNORECASE)
_DATABASE_YML = re.compile(r"(^|/)database\.ya?ml(\.[\w]+)?$")
_SETTINGS_PY = re.compile(r"(^|/)(settings|config|conf)(/[^/]+)?\.py$|(^|/)[^/]*settings[^/]*\.py$")
_REQUIREMENTS = re.compile(r"(^|/)requirements[^/]*\.(txt|in)$|(^|/)(pyproject\.toml|setup\.py|setup\.cfg|Pipfile)$")
_JS_CONFIG = re.compile(
    r"(^|/)(knexfile|ormconfig|data-?source|typeorm\.config|sequelize\.config|\.sequelizerc|database|db)"
    r"(\.[\w-]+)?\.(js|ts|mjs|cjs|json)$|(^|/)config/config\.json$",
    re.IGNORECASE,
)
_TEST_NAME = re.compile(r"(^|[._-])(test|tests|testing|ci|e2e)([._-]|$)", re.IGNORECASE)
_COMPOSE = re.compile(r"(^|/)(docker-)?compose[^/]*\.ya?ml$")
_DEV_SECTIONS = frozenset({"development", "dev", "test", "tests", "testing", "ci", "cucumber", "local"})


def _kind(path: str) -> str | None:
    name = posixpath.basename(path)
    if _SKIP_DIRS.search(path):
        return None
    if _DATABASE_YML.search(path):
        return "database_yml"
    if name == "Gemfile":
        return "gemfile"
    if name == "schema.prisma" or name.endswith(".prisma"):
        return "prisma"
    if name == "go.mod":
        return "go_mod"
    if name == "package.json":
        return "package_json"
    if _COMPOSE.search(path):
        return None if _TEST_NAME.search(name) else "compose"  # a development compose file runs the real engine
    if _REQUIREMENTS.search(path):
        return None if _DEV_ONLY_NAME.search(name) else "requirements"
    if path.endswith(".py") and _SETTINGS_PY.search(path):
        return None if _DEV_ONLY_NAME.search(name.removesuffix(".py")) else "settings"
    if _JS_CONFIG.search(path):
        return "js_config"
    return None


def candidate_files(paths: list[str]) -> list[tuple[str, str]]:
    """(path, kind) of the files that may name a database engine, shallowest first."""
    picked = [(p, k) for p in paths if (k := _kind(p)) is not None]
    return sorted(picked, key=lambda pk: (pk[0].count("/"), pk[0]))


def _lines(text: str) -> list[str]:
    return [line[:MAX_LINE] for line in text.splitlines()]


_YML_TOP = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_YML_ADAPTER = re.compile(r"^\s+adapter\s*:\s*(.+)$")
_WORD = re.compile(r"[A-Za-z_][\w]*")


def read_database_yml(path: str, text: str, facts: DatabaseFacts) -> None:
    """Adapters of the sections that are not development or test ones (all of them when only those exist);
    an ERB expression counts every adapter name it mentions (`ENV[...] || "mysql2"`)."""
    found: list[tuple[bool, str]] = []
    section = ""
    for line in _lines(text):
        top = _YML_TOP.match(line)
        if top:
            section = top.group(1).lower()
        value = _YML_ADAPTER.match(line)
        if value:
            for word in _WORD.findall(value.group(1)):
                if word.lower() in _RAILS_ADAPTERS:
                    found.append((section in _DEV_SECTIONS, word.lower()))
    production = [a for dev, a in found if not dev]
    for adapter in production or [a for _, a in found]:
        facts.add(_RAILS_ADAPTERS[adapter], path, f"adapter {adapter}")


_GEM = re.compile(r"""^\s*gem\s+['"]([\w-]+)['"](.*)$""")
_GROUP = re.compile(r"^\s*group\b(.*)\bdo\b")
_OPENS = re.compile(r"\bdo\b\s*(\|[^|]*\|)?\s*$|^\s*(if|unless|case|begin|while|until)\b")
_ENDS = re.compile(r"^\s*end\b")
_INLINE_GROUP = re.compile(r"\bgroups?\s*:\s*(\[[^\]]*\]|:\w+)")


def read_gemfile(path: str, text: str, facts: DatabaseFacts) -> None:
    """Driver gems outside groups that leave production out (`group :development, :test do`)."""
    depth = 0  # > 0 inside a group block without :production
    for line in _lines(text):
        code = line.split("#", 1)[0]
        if depth:
            if _ENDS.match(code):
                depth -= 1
            elif _OPENS.search(code):
                depth += 1
            continue
        group = _GROUP.match(code)
        if group:
            if "production" not in group.group(1):
                depth = 1
            continue
        gem = _GEM.match(code)
        if gem and gem.group(1) in _GEMS:
            inline = _INLINE_GROUP.search(gem.group(2))
            if inline and "production" not in inline.group(1):
                continue
            facts.add(_GEMS[gem.group(1)], path, f"gem {gem.group(1)}")


_DJANGO_ENGINE = re.compile(r"django(?:\.contrib\.gis)?\.db\.backends\.(\w+)")
_DJANGO_POSTGRES_APP = re.compile(r"['\"]django\.contrib\.postgres['\"]")
_URL = re.compile(r"['\"]([a-z][a-z0-9]*)(?:\+[\w]+)?://", re.IGNORECASE)


def read_settings(path: str, text: str, facts: DatabaseFacts) -> None:
    """Django backends (`ENGINE`), `django.contrib.postgres` in INSTALLED_APPS, and database URLs."""
    for line in _lines(text):
        if line.lstrip().startswith("#"):
            continue
        for backend in _DJANGO_ENGINE.findall(line):
            if backend in _DJANGO_BACKENDS:
                facts.add(_DJANGO_BACKENDS[backend], path, f"Django backend {backend}")
        if _DJANGO_POSTGRES_APP.search(line):
            facts.add(POSTGRESQL, path, "django.contrib.postgres installed")
        for scheme in _URL.findall(line):
            if scheme.lower() in _URL_SCHEMES:
                facts.add(_URL_SCHEMES[scheme.lower()], path, f"{scheme.lower()}:// database URL")


_REQUIREMENT = re.compile(r"""(?:^|['"\s,\[])([A-Za-z][\w.-]*)\s*(?:\[[^\]]*\])?\s*(?:[<>=~!;,'"\]]|$)""")
_PY_DEV_SECTION = re.compile(
    r"^\s*\[.*\b(dev|test|tests|lint|docs|testing)\b.*\]\s*$|^\s*(dev|test|tests|lint|docs)\s*=\s*\[", re.IGNORECASE
)
_TOML_SECTION = re.compile(r"^\s*\[")


def read_requirements(path: str, text: str, facts: DatabaseFacts) -> None:
    """Python database drivers named as dependencies (dev/test sections and extras left out)."""
    dev = False
    for line in _lines(text):
        if _TOML_SECTION.match(line) or re.match(r"^\s*\w+\s*=\s*\[", line):
            dev = bool(_PY_DEV_SECTION.match(line))
        if dev or line.lstrip().startswith("#"):
            continue
        for name in _REQUIREMENT.findall(line):
            key = name.lower().replace("_", "-")
            if key in _PY_DRIVERS:
                facts.add(_PY_DRIVERS[key], path, f"Python driver {key}")


_PRISMA_DATASOURCE = re.compile(r"^\s*datasource\s+\w+\s*\{")
_PRISMA_PROVIDER = re.compile(r"""^\s*provider\s*=\s*['"](\w+)['"]""")


def read_prisma(path: str, text: str, facts: DatabaseFacts) -> None:
    inside = False
    for line in _lines(text):
        if _PRISMA_DATASOURCE.match(line):
            inside = True
        elif inside and line.strip().startswith("}"):
            inside = False
        elif inside and (m := _PRISMA_PROVIDER.match(line)) and m.group(1) in _PRISMA_PROVIDERS:
            facts.add(_PRISMA_PROVIDERS[m.group(1)], path, f"Prisma provider {m.group(1)}")


_JS_KEY = re.compile(r"""\b(client|type|dialect|driver)['"]?\s*:\s*['"]([\w-]+)['"]""")


def read_js_config(path: str, text: str, facts: DatabaseFacts) -> None:
    """knex `client`, TypeORM `type`, Sequelize `dialect` naming a database."""
    for line in _lines(text):
        for key, value in _JS_KEY.findall(line):
            if value.lower() in _JS_CLIENTS:
                facts.add(_JS_CLIENTS[value.lower()], path, f"{key}: {value}")


def read_package_json(path: str, text: str, facts: DatabaseFacts) -> None:
    """Database drivers among `dependencies` (devDependencies are for tests and tools)."""
    try:
        data = json.loads(text)
    except ValueError:
        return
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, dict):
        return
    for name in deps:
        if name in _JS_DRIVER_PACKAGES:
            facts.add(_JS_DRIVER_PACKAGES[name], path, f"dependency {name}")


def read_go_mod(path: str, text: str, facts: DatabaseFacts) -> None:
    """Driver modules required directly (`// indirect` ones come in through other modules)."""
    for line in _lines(text):
        if "// indirect" in line:
            continue
        for module, engine in _GO_MODULES:
            if module in line:
                facts.add(engine, path, f"Go module {module}")


_IMAGE = re.compile(r"""^\s*image\s*:\s*['"]?([\w./-]+)""")


def read_compose(path: str, text: str, facts: DatabaseFacts) -> None:
    for line in _lines(text):
        m = _IMAGE.match(line)
        if not m:
            continue
        name = m.group(1).rsplit("/", 1)[-1].lower()
        for word, engine in _IMAGES.items():
            if name == word or name.startswith(word + "-") or name.startswith(word + "_"):
                facts.add(engine, path, f"service image {m.group(1)}")


_READERS: dict[str, Callable[[str, str, DatabaseFacts], None]] = {
    "database_yml": read_database_yml,
    "gemfile": read_gemfile,
    "settings": read_settings,
    "requirements": read_requirements,
    "prisma": read_prisma,
    "js_config": read_js_config,
    "package_json": read_package_json,
    "go_mod": read_go_mod,
    "compose": read_compose,
}


def read_database_source(path: str, kind: str, text: str, facts: DatabaseFacts) -> None:
    """Add the engines one file names to `facts` (kind from `candidate_files`)."""
    _READERS[kind](path, text, facts)


def build_database_facts(
    view: RepoView, budget: DatabaseBudget | None = None, clock: Callable[[], float] = time.monotonic
) -> DatabaseFacts:
    budget = budget or DatabaseBudget()
    facts = DatabaseFacts()
    started = clock()
    lister = getattr(view, "list_files", None)
    if not callable(lister):  # a view that can only read named files: nothing to go on
        facts.not_read.append("cannot list files")
        return facts
    try:
        files = candidate_files(lister())
    except RepoAccessError as exc:
        facts.not_read.append(f"cannot list files: {exc}")
        return facts
    if len(files) > budget.max_files:
        facts.not_read.append(f"{len(files) - budget.max_files} candidate files over the {budget.max_files}-file cap")
        files = files[: budget.max_files]
    kinds = dict(files)
    for path, text in read_within_budget(view, [p for p, _ in files], budget, facts, clock, started):
        read_database_source(path, kinds[path], text, facts)
    return facts


_ENGINES: CommitCache[DatabaseFacts] = CommitCache(16)


def database_facts_for(view: RepoView, budget: DatabaseBudget | None = None) -> DatabaseFacts:
    """The engines of `view`'s commit, read once per commit (a small LRU) and then shared."""
    return _ENGINES.get(view, lambda: build_database_facts(view, budget))

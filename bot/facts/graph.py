"""The repository model graph: models, their relations and indexes, serializers, admin pages, settings.

Plain data, filled by the per-framework readers in this package and read by the analyzers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SINGLE_KINDS = frozenset({"foreign_key", "one_to_one", "reverse_one_to_one", "belongs_to", "has_one", "many_to_one"})


@dataclass
class Relation:
    """An attribute of a model that loads other rows when read."""

    name: str
    target: str  # the related model's class name
    kind: str  # foreign_key, one_to_one, many_to_many, reverse_fk, belongs_to, has_many, relationship, ...
    path: str
    line: int
    many: bool = False
    loading: str = ""  # declared loading strategy: SQLAlchemy lazy=, TypeORM eager, GORM preload
    related_name: str = ""  # Django related_name (the reverse accessor), when given
    nullable: bool = False  # declared `null=True` (Django): select_related() with no arguments skips it

    @property
    def eager_by_default(self) -> bool:
        return self.loading in {"joined", "selectin", "subquery", "immediate", "eager"}


@dataclass
class Model:
    """One model (table) class of an ORM."""

    name: str
    orm: str  # django, sqlalchemy, rails, typeorm, sequelize, prisma, gorm
    path: str
    line: int
    fields: dict[str, int] = field(default_factory=dict)  # column name -> line
    relations: dict[str, Relation] = field(default_factory=dict)
    indexed: set[str] = field(default_factory=set)  # columns that lead an index (pk, unique, db_index, Meta)
    scopes: dict[str, set[str]] = field(default_factory=dict)  # scope name -> associations it eager-loads
    default_eager: set[str] = field(default_factory=set)  # eager-loaded by default_scope
    query_methods: dict[str, int] = field(default_factory=dict)  # method name -> line, for methods that query
    query_properties: set[str] = field(default_factory=set)  # those of query_methods read as attributes (@property)
    methods: set[str] = field(default_factory=set)  # every method and property the model class defines
    # Rails: instance method -> the bare names its body reads (`current_role_appointments.first`), for the
    # associations it reads on the record it is called on (resolved against `relations` when used)
    method_reads: dict[str, set[str]] = field(default_factory=dict)
    parent: str = ""  # the superclass's name, for models that inherit another model's (STI: `class Admin < User`)


@dataclass
class Serializer:
    """A Django REST framework serializer class."""

    name: str
    path: str
    line: int
    model: str | None = None
    nested: dict[str, str] = field(default_factory=dict)  # field -> nested serializer class
    sources: dict[str, str] = field(default_factory=dict)  # field -> dotted source=
    method_fields: dict[str, int] = field(default_factory=dict)  # field -> line of get_<field>
    method_reads: set[str] = field(default_factory=set)  # `obj.a` / `obj.a.b` read by method fields, as a / a.b
    bases: tuple[str, ...] = ()


@dataclass
class Admin:
    """A Django ModelAdmin class."""

    name: str
    path: str
    line: int
    model: str | None = None
    list_display: list[str] = field(default_factory=list)
    list_display_line: int = 0
    list_select_related: bool | tuple[str, ...] = False


@dataclass
class ViewLoop:
    """A template's loop over a controller's instance variable: `<% @posts.each do |post| %>`."""

    path: str
    line: int
    ivar: str  # without the @
    var: str
    reads: dict[str, int] = field(default_factory=dict)  # "author" or "comments.count" -> line


@dataclass
class RepoFacts:
    """Everything known about one commit's data model, and what was left unread."""

    models: dict[str, Model] = field(default_factory=dict)
    serializers: dict[str, Serializer] = field(default_factory=dict)
    admins: list[Admin] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)  # DRF/Django settings the rules need
    view_loops: dict[str, list[ViewLoop]] = field(default_factory=dict)  # template folder -> loops over @ivars
    # Django/Jinja templates by name ("shop/orders.html", the path after `templates/`) -> their loops over a
    # context variable (`ivar` holds the context name): `{% for order in orders %}{{ order.customer.name }}`
    django_templates: dict[str, list[ViewLoop]] = field(default_factory=dict)
    user_model: str = ""  # Django's AUTH_USER_MODEL setting ("accounts.User"), when a settings module sets it
    # every association name a Rails model file declares (has_many/has_one/belongs_to/habtm/has_*_attached),
    # in model classes and in concerns (`included do has_many :tags end`), which no model class holds
    rails_associations: set[str] = field(default_factory=set)
    files_read: list[str] = field(default_factory=list)
    not_read: list[str] = field(default_factory=list)  # "path: reason", and budget notes

    def model(self, name: str | None) -> Model | None:
        return self.models.get(name) if name else None

    def relation(self, model: str | None, attr: str) -> Relation | None:
        m = self.model(model)
        return m.relations.get(attr) if m else None

    def merge(self, other: RepoFacts) -> None:
        """Add what `other` knows that this graph does not (this graph wins on conflicts)."""
        for name, m in other.models.items():
            self.models.setdefault(name, m)
        for name, s in other.serializers.items():
            self.serializers.setdefault(name, s)
        known = {(a.path, a.name) for a in self.admins}
        self.admins.extend(a for a in other.admins if (a.path, a.name) not in known)
        for k, v in other.settings.items():
            self.settings.setdefault(k, v)
        self.rails_associations |= other.rails_associations
        self.user_model = self.user_model or other.user_model

    def models_with_relations(self, names: set[str]) -> list[Model]:
        """Models that have every one of `names` as a relation (to identify an untyped queryset)."""
        heads = {n.split("__")[0] for n in names}
        return [m for m in self.models.values() if heads and heads <= set(m.relations)]

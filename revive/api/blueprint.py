"""The /api/v1 blueprint every route module registers on (revive/api/__init__.py imports them
all, so the app sees every route when it registers the blueprint)."""

from revive.api.schema import ApiBlueprint

bp = ApiBlueprint("api", __name__, url_prefix="/api/v1")

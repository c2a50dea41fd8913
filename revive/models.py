"""Import every domain's models so the metadata (and Alembic) sees all tables."""

from revive.accounts.models import (  # noqa: F401
    ApiToken,
    College,
    Invitation,
    Organization,
    User,
)
from revive.alerts.models import (  # noqa: F401
    AlertDigest,
    AlertPreference,
    MatchAlert,
    QueueSeen,
    SeenItem,
)
from revive.audit.models import AuditEvent  # noqa: F401
from revive.dashboard.models import DashboardSnapshot  # noqa: F401
from revive.deals.models import Contract, Deal, DealEvent  # noqa: F401
from revive.demands.models import Demand  # noqa: F401
from revive.evaluations.models import Evaluation, EvaluationInvite  # noqa: F401
from revive.exports.models import ExportJob  # noqa: F401
from revive.imports.models import ImportJob, ImportRowError  # noqa: F401
from revive.inventory.models import (  # noqa: F401
    FeeSetting,
    InvitationPatent,
    Patent,
    PatentRevision,
    StatusChange,
)
from revive.licensing.models import OpenLicenceDeclaration  # noqa: F401
from revive.matching.models import (  # noqa: F401
    DemandReading,
    IndexBuild,
    Match,
    MatchRun,
    PatentTokens,
    StrengthModelVersion,
)
from revive.notifications.models import Notification  # noqa: F401
from revive.pools.models import (  # noqa: F401
    Pool,
    PoolDemand,
    PoolPatent,
    PoolRun,
    Roadshow,
    RoadshowPatent,
)
from revive.settings.models import PlatformSetting  # noqa: F401

"""Extension objects, unbound: ``create_app`` binds them to an app."""

import flask_babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from werkzeug.utils import cached_property

from booking.i18n import ElidingDomain
from models.base import Base

# The models subclass models.Base (no Flask in them); the extension shares its
# metadata so migrations and sessions see every table.
db = SQLAlchemy(metadata=Base.metadata)


class Babel(flask_babel.Babel):
    """Flask-Babel with French elision in every formatted message
    (booking.i18n.ElidingDomain): « Historique d’Étiqueteuse »."""

    @cached_property
    def domain_instance(self) -> ElidingDomain:
        return ElidingDomain(domain=self.domain)


migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

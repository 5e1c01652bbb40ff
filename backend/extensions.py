"""Extension instances, bound to the app in create_app()."""

from typing import TYPE_CHECKING

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api, Blueprint
from flask_sqlalchemy import SQLAlchemy

from backend.errors import ErrorSchema
from backend.json_body import CheckedBodyParser
from backend.models_base import Base


class ZoufangApi(Api):
    # The documented error body is the one errors.py actually sends.
    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
# The base class of every model: Flask-SQLAlchemy's db.Model, which is ``Base`` with the
# session's query property added; type checkers see ``Base``, which they can read.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
api = ZoufangApi()
# Every blueprint's arguments load the JSON body json_body.py parsed and checked, not a second
# parse of it (flask-smorest's documented hook; set before any blueprint decorates a view).
Blueprint.ARGUMENTS_PARSER = CheckedBodyParser()
# Responses cross 2G-4G links: the app's scripts and the JSON of a pull shrink 4-10x.
compress = Compress()
# Only the routes that say so are limited (sign-in); the client address is the one ProxyFix
# found under ZOUFANG_PROXY_COUNT.
limiter = Limiter(key_func=get_remote_address)

"""Extension instances, bound to the app in create_app()."""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from backend.errors import ErrorSchema
from backend.models_base import Base


class ZoufangApi(Api):
    # The documented error body is the one errors.py actually sends.
    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = ZoufangApi()

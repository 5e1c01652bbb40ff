"""/api/auth, /api/devices and /api/users."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.accounts import service
from backend.accounts.rate_limit import SIGN_IN_SCOPE, refuse, sign_in_rate
from backend.accounts.schemas import (
    DeviceQueryArgsSchema,
    DeviceSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordSetSchema,
    TokenSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQueryArgsSchema,
    UserSchema,
    UserUpdateSchema,
)
from backend.auth import current_device, current_user, login_required
from backend.extensions import db, limiter

auth_blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign in and out with device tokens")
devices_blp = Blueprint("devices", __name__, url_prefix="/api/devices", description="Signed-in devices")
users_blp = Blueprint("users", __name__, url_prefix="/api/users", description="User administration (admins)")
# Per client address, login and password change together: password guesses spread over many
# usernames get past the per-username lockout, not past this.
sign_in_limit = limiter.shared_limit(sign_in_rate, scope=SIGN_IN_SCOPE, on_breach=refuse)


@auth_blp.route("/login", methods=["POST"])
@sign_in_limit
@auth_blp.doc(security=[])
@auth_blp.arguments(LoginSchema)
@auth_blp.response(200, TokenSchema)
def login(args):
    """Exchange a username and password for a device token."""
    result = service.login(**args)
    db.session.commit()
    if result.error is not None:
        raise result.error
    return {"token": result.token, "token_type": "Bearer",
            "expires_at": service.token_expires_at(result.device), "user": result.device.user}


@auth_blp.route("/logout", methods=["POST"])
@login_required()
@auth_blp.response(204)
def logout():
    """Revoke the token this request carries."""
    service.logout(device=current_device())
    db.session.commit()


@auth_blp.route("/me")
@login_required()
@auth_blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return current_user()


@auth_blp.route("/password", methods=["POST"])
@sign_in_limit
@login_required()
@auth_blp.arguments(PasswordChangeSchema)
@auth_blp.response(204)
def change_password(args):
    """Change your own password; your other devices are signed out.

    A wrong current password counts toward the sign-in lockout of your username."""
    error = service.change_own_password(user=current_user(), device=current_device(), **args)
    db.session.commit()
    if error is not None:
        raise error


@devices_blp.route("")
@login_required()
@devices_blp.arguments(DeviceQueryArgsSchema, location="query")
@devices_blp.response(200, DeviceSchema(many=True))
def list_devices(args):
    """Your signed-in devices (admins: a user's, with user_id)."""
    return service.list_devices(actor=current_user(), **args)


@devices_blp.route("/<int(min=1, max=2147483647):device_id>", methods=["DELETE"])
@login_required()
@devices_blp.response(204)
def revoke_device(device_id):
    """Sign a device out: its token fails from now on."""
    service.revoke_device(actor=current_user(), device_id=device_id)
    db.session.commit()


@users_blp.route("")
class Users(MethodView):
    @login_required("admin")
    @users_blp.arguments(UserQueryArgsSchema, location="query")
    @users_blp.response(200, UserPageSchema)
    def get(self, args):
        """Users in your area."""
        return service.list_users(actor=current_user(), **args)

    @login_required("admin")
    @users_blp.arguments(UserCreateSchema)
    @users_blp.response(201, UserSchema)
    def post(self, args):
        """Create a user in your area."""
        user = service.create_user(actor=current_user(), **args)
        db.session.commit()
        return user


@users_blp.route("/<int(min=1, max=2147483647):user_id>")
class UserById(MethodView):
    @login_required("admin")
    @users_blp.response(200, UserSchema)
    def get(self, user_id):
        """One user in your area."""
        return service.get_user(actor=current_user(), user_id=user_id)

    @login_required("admin")
    @users_blp.arguments(UserUpdateSchema)
    @users_blp.response(200, UserSchema)
    def patch(self, args, user_id):
        """Change a user; active=false deactivates and signs out every device."""
        user = service.update_user(actor=current_user(), user_id=user_id, changes=args)
        db.session.commit()
        return user


@users_blp.route("/<int(min=1, max=2147483647):user_id>/password", methods=["POST"])
@login_required("admin")
@users_blp.arguments(PasswordSetSchema)
@users_blp.response(204)
def set_password(args, user_id):
    """Set a user's password; they are signed out everywhere."""
    service.set_password(actor=current_user(), user_id=user_id, **args)
    db.session.commit()

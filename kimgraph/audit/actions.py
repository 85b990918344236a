"""The fixed list of audited actions, as dotted names (docs/audit.md)."""

from __future__ import annotations

import enum


class AuditAction(enum.StrEnum):
    """What an audit row records; the value is what tables, filters and CSV show.

    A new state-changing command adds its member here and to schema/audit.py's
    enum (a test keeps the two equal).
    """

    ANNOUNCEMENT_PUBLISH = "announcement.publish"
    ANNOUNCEMENT_UPDATE = "announcement.update"
    ANNOUNCEMENT_WITHDRAW = "announcement.withdraw"
    ANNOUNCEMENT_RELAY = "announcement.relay"
    KIM_REGISTER = "kim.register"
    KIM_UPDATE = "kim.update"
    KIM_MEMBER_ADD = "kim.member_add"
    KIM_MEMBER_REMOVE = "kim.member_remove"
    ACCOUNT_CREATE = "account.create"
    ACCOUNT_DEACTIVATE = "account.deactivate"
    ACCOUNT_REACTIVATE = "account.reactivate"
    ACCOUNT_PASSWORD_RESET = "account.password_reset"
    ACCOUNT_ROLE_CHANGE = "account.role_change"
    ACCOUNT_PASSWORD_CHANGE = "account.password_change"
    ASPIRATION_MODERATE = "aspiration.moderate"
    ASPIRATION_REPORTER_KEY_REISSUE = "aspiration.reporter_key_reissue"
    UNIT_CREATE = "unit.create"
    UNIT_UPDATE = "unit.update"
    UNIT_ARCHIVE = "unit.archive"
    UNIT_MEMBER_ADD = "unit.member_add"
    UNIT_MEMBER_REMOVE = "unit.member_remove"
    ACCOUNT_OFFICE_SET = "account.office_set"
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_UPDATE = "webhook.update"
    WEBHOOK_DISABLE = "webhook.disable"
    WEBHOOK_ENABLE = "webhook.enable"
    WEBHOOK_DELETE = "webhook.delete"
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    WARNING_REVIEW_PUBLISH = "warning_review.publish"
    WARNING_REVIEW_DISMISS = "warning_review.dismiss"
    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILURE = "auth.sign_in_failure"
    SIGN_OUT = "auth.sign_out"


class ActorKind(enum.StrEnum):
    """What kind of actor an audit row names; the value is what the row stores."""

    ACCOUNT = "account"
    API_KEY = "api_key"
    SYSTEM = "system"


def parse_action(text: str) -> AuditAction | None:
    """The action with this dotted name; None if there is none."""
    try:
        return AuditAction(text)
    except ValueError:
        return None

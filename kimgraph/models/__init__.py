"""Tortoise models, one module per domain."""

from kimgraph.models.accounts import AccessToken, Account, ApiKey
from kimgraph.models.kims import Kim, KimMember, KimRole
from kimgraph.models.regions import Region

__all__ = ["AccessToken", "Account", "ApiKey", "Kim", "KimMember", "KimRole", "Region"]

"""Accounts: principals and roles, who may do what, passwords, tokens, API keys."""

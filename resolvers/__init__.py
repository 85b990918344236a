"""Root Query/Mutation/Subscription fields, one module per domain."""

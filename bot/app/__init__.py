"""The GitHub App as a service: the webhook receiver, the durable DBOS workflows and the review and command
flows they run, their steps, redelivery, the runtime (GitHub clients, budgets), group commit, the setup
page, metrics, tracing and logging."""

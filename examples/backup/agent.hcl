# Scheduled backups of the local cluster of `make run` (examples/cluster):
#   bin/strata-backup agent --config examples/backup/agent.hcl
# S3 credentials and endpoint come from the AWS environment variables
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3);
# README.md's disaster-recovery walkthrough runs a local S3 server for it.

servers = ["127.0.0.1:4222", "127.0.0.1:4223", "127.0.0.1:4224"]

# The agent's own Prometheus metrics: last success per stream, durations,
# bytes, failures.
metrics = "127.0.0.1:9090"

# Every stream, every hour (and a little jitter so that many agents do not
# hit S3 at once), to S3; keep the newest 24, none older than 7 days.
backup "hourly" {
  all      = true
  target   = "s3://backups/strata"
  interval = "1h"
  jitter   = "2m"
  retain {
    count   = 24
    max_age = "7d"
  }
}

# ORDERS also nightly at 02:30 to a local directory, kept for 30 days.
backup "orders-nightly" {
  streams = ["ORDERS"]
  target  = "./data/backups"
  cron    = "30 2 * * *"
  retain {
    count   = 30
    max_age = "30d"
  }
}

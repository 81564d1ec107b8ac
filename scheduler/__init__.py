"""The worker: APScheduler 3 runs periodic jobs; the database holds the work itself."""

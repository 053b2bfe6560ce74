"""Many sessions at once: Locust users, the capacity runs (`make loadtest`), the cluster's scale test."""

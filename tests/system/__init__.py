"""The whole app running: Chromium, many sessions, the cluster behind nginx, Kubernetes, make bench."""

"""Tests of mnist_app/drawings: the room's store on SQLite and PostgreSQL, the presenter's rules."""
